"""How the app is put together: URL kinds, stored links, global listeners, features wiring themselves."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest
from flask import url_for
from sqlalchemy.orm import Session as SaSession
from sqlmodel import Session

from market import create_app, links
from market.accounts.models import Organization
from market.listings.models import ResearchResult, TechNeed
from tests.factories import make_match
from vocab.taxonomy import OrgKind


def test_kind_converter_maps_plural_urls_to_singular_kinds(app):
    adapter = app.url_map.bind("localhost")
    assert adapter.match("/results/7") == ("listings.detail", {"kind": "result", "listing_id": 7})
    assert adapter.match("/api/v1/needs/3/matches")[1] == {"kind": "need", "listing_id": 3}
    with app.test_request_context():
        assert url_for("listings.detail", kind="need", listing_id=5) == "/needs/5"
        assert url_for("imports.export", kind="result", fmt="csv") == "/export/results.csv"


@pytest.mark.parametrize("path", ["/patents/1", "/result/1", "/api/v1/patents", "/export/patents.csv"])
def test_an_unknown_kind_is_a_404(client, path):
    resp = client.get(path)
    assert resp.status_code == 404
    if path.startswith("/api/"):
        assert resp.is_json and resp.json["error"]


def test_every_stored_link_resolves_to_its_endpoint(app):
    """Links written into notifications come from the URL map: each one routes to the page it names."""
    adapter = app.url_map.bind("localhost")
    with app.app_context():
        built = {
            "listings.detail": links.listing("result", 3),
            "matches.detail": links.match(4),
            "matches.queue": links.interest_queue(),
            "deals.detail": links.contract(5),
            "accounts.account": links.account(),
            "trade.publicity": links.publicity(1),
            "trade.listing": links.sale(2),
            "trade.auction": links.auction(3),
            "trade.deal": links.deal(4),
            "trade.contract_registration": links.contract_registration(5),
            "directory.agency": links.agency(6),
            "directory.broker": links.broker(7),
            "directory.requests": links.broker_requests(),
            "notices.detail": links.notice(8),
        }
    for endpoint, link in built.items():
        path = link.partition("?")[0]
        assert adapter.match(path)[0] == endpoint, link
    assert built["listings.detail"] == "/results/3"
    assert built["matches.queue"] == "/matches?interest=1"


def test_links_are_built_without_a_request(app):
    """The worker writes notifications too: no request context is needed, nor an app context."""
    with app.app_context():
        assert links.listing("need", 9) == "/needs/9"
    assert links.listing("result", 8) == "/results/8"


def test_creating_apps_adds_no_global_listener(app_config):
    """Listeners on the Session class are registered once, at import; building apps adds none."""

    def count() -> dict[str, int]:
        return {
            name: sum(len(getattr(cls.dispatch, name)._clslevel.get(cls, ())) for cls in (Session, SaSession))
            for name in ("after_commit", "after_rollback")
        }

    create_app(app_config)
    before = count()
    for _ in range(3):
        create_app(app_config)
    assert count() == before == {"after_commit": 1, "after_rollback": 1}  # the outbox doorbell's


def test_each_feature_registers_its_parts(app):
    """Blueprints, commands, outbox handlers, rebuild steps, jobs and health probes all arrive through
    the features' init_app."""
    assert {
        "main",
        "accounts",
        "listings",
        "admin",
        "api",
        "imports",
        "search",
        "stats",
        "matches",
        "deals",
        "directory",
    } <= set(app.blueprints)
    assert {"db", "users", "import", "search", "match", "outbox", "serve"} <= set(app.cli.commands)
    assert "seed" not in app.cli.commands  # the demo data registers through the flask.commands entry point
    steps = [name for name, _step in app.extensions["rebuild.steps"]]
    assert steps == ["搜索索引", "供需匹配", "互联互通目录"]
    assert set(app.extensions["health.probes"]) == {"search", "store", "ranker", "worker"}
    assert {job.name for job in app.extensions["outbox.jobs"]} >= {"search-index", "match-store", "mail"}


def test_the_seed_command_is_a_flask_plugin():
    names = {ep.name: ep.value for ep in entry_points(group="flask.commands")}
    assert names.get("seed") == "seed.cli:seed_cli"


def test_factories_create_the_parents_they_are_not_given(session):
    match = make_match(session)
    result, need = session.get(ResearchResult, match.result_id), session.get(TechNeed, match.need_id)
    owners = {session.get(Organization, lst.organization_id).kind for lst in (result, need)}
    assert owners == {OrgKind.UNIVERSITY, OrgKind.ENTERPRISE} and result.status == need.status == "已发布"
