"""Links stored with notifications and mail: built from the URL map, so a moved route moves them too.

They are paths (no host), built without a request, so the worker can write them as well as a view.
"""

from __future__ import annotations

from flask import current_app


def _path(endpoint: str, **values: object) -> str:
    root = current_app.config.get("APPLICATION_ROOT") or "/"
    return current_app.url_map.bind("localhost", script_name=root).build(endpoint, values)


def listing(kind: str, listing_id: int) -> str:
    return _path("listings.detail", kind=kind, listing_id=listing_id)


def match(match_id: int) -> str:
    return _path("matches.detail", match_id=match_id)


def interest_queue() -> str:
    """The agents' queue filtered to matches raised by 表达意向."""
    return _path("matches.queue", interest=1)


def contract(contract_id: int) -> str:
    return _path("deals.detail", contract_id=contract_id)


def account() -> str:
    return _path("accounts.account")


def financing(request_id: int) -> str:
    return _path("financing.detail", request_id=request_id)


def financing_views(request_id: int) -> str:
    """The owner's log of who opened the data room."""
    return _path("financing.views", request_id=request_id)


def event(event_id: int) -> str:
    return _path("events.detail", event_id=event_id)


def event_agenda(event_id: int) -> str:
    """A participant's own agenda of 1:1 meetings."""
    return _path("events.agenda", event_id=event_id)
