"""Fuzzing the API against its OpenAPI document with schemathesis, in process or over HTTP.

Every operation gets schema-valid input, which must be accepted (unless the document states a
cross-field rule it breaks: `documented_inconsistency`), and schema-invalid input, which must be
refused; and every response is checked: no 5xx, documented statuses, content types, headers and
bodies matching their schemas, 405s with Allow, auth that is not ignored.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from market.listings.schemas import need_rule_problems

#: every check that judges a single response (the stateful ones need links between operations)
RESPONSE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    missing_required_header,
    ignored_auth,
    unsupported_method,
    allow_header_conformance,
]


def documented_inconsistency(case) -> bool:
    """Schema-valid input the document says is refused: cross-field rules a JSON Schema cannot state."""
    query = case.query if isinstance(case.query, dict) else {}
    body = case.body if isinstance(case.body, dict) else {}

    def number(container, name):
        value = container.get(name)
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    low, high = number(query, "price_min"), number(query, "price_max")
    if case.operation.path == "/api/v1/search":
        if low is not None and high is not None and low > high:
            return True
        page, per_page = number(query, "page") or 1, number(query, "per_page") or 20
        if (page - 1) * per_page >= 10_000:
            return True
    if case.operation.path == "/api/v1/stats":
        start, end = (str(query.get(k) or "").strip() for k in ("from", "to"))
        if start and end and start > end:
            return True
    if case.operation.path == "/api/v1/federation/introductions":
        # the target must be one of this platform's published listings, from.identifier in the
        # partner's identifier space, texts not blank once trimmed (stated in the description)
        return True
    if "/needs" in case.operation.path and need_rule_problems(body):
        # the rules across a need's fields, stated in the description (a 揭榜 deadline after today,
        # a reward for a challenge, the budget's bounds in order)
        return True
    budget = [number(body, "budget_min_wan"), number(body, "budget_max_wan")]
    return None not in budget and round(budget[0], 2) > round(budget[1], 2)


def fuzz(
    app_or_url,
    headers: dict[str, str] | None = None,
    examples: int = 20,
    *,
    only: str | None = None,
    path_parameters: dict | None = None,
) -> list[str]:
    """Run every documented operation (or those whose label contains `only`) with generated input, both
    schema-valid data, which must be accepted (no 400 / 422, unless `documented_inconsistency`), and
    schema-invalid data, which must be refused; plus the default checks (no 5xx, documented statuses,
    responses matching their schemas). Collects one line per failing operation and mode."""
    if isinstance(app_or_url, str):  # a running server: requests over HTTP
        schema = schemathesis.openapi.from_url(f"{app_or_url}/api/v1/openapi.json")
    else:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app_or_url)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14  # every route of the document
    for operation in operations:
        if only and only not in operation.label:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = _fuzz_one(operation, mode, headers, examples, path_parameters)
            try:
                run()
            except Exception as exc:  # report every operation's failure, not just the first
                failures.append(f"{operation.label} [{mode.value}]: {type(exc).__name__}: {str(exc)[:900]}")
    return failures


def _fuzz_one(operation, mode, headers, examples, path_parameters):
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        # Both checks are among the defaults; each applies to its own mode only.
        response = case.call(headers=headers)
        if mode is GenerationMode.POSITIVE:
            skip = [negative_data_rejection]
            # A documented cross-field rule, or a URL longer than the web server takes (a real server
            # refuses it with the documented 414 before the site sees it).
            if documented_inconsistency(case) or response.status_code == 414:
                skip.append(positive_data_acceptance)
        else:
            skip = [positive_data_acceptance]
        checks = [c for c in RESPONSE_CHECKS if c not in skip]
        case.validate_response(response, checks=checks, headers=headers)

    return run
