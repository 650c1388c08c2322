"""Links stored with notifications and mail: built from the URL map, so a moved route moves them too.

They are paths (no host), built without a request, so the worker can write them as well as a view.
Outside an app context (a service called from a script or a test) the URL map of the last app built
is used: every app of this code base has the same routes.
"""

from __future__ import annotations

from flask import Flask, current_app, has_app_context
from werkzeug.routing import Map

_last: dict[str, tuple[Map, str]] = {}


def init_app(app: Flask) -> None:
    """Remember the app's URL map (after its features registered their routes)."""
    _last["map"] = (app.url_map, app.config.get("APPLICATION_ROOT") or "/")


def _path(endpoint: str, **values: object) -> str:
    if has_app_context():
        url_map, root = current_app.url_map, current_app.config.get("APPLICATION_ROOT") or "/"
    else:
        url_map, root = _last["map"]
    return url_map.bind("localhost", script_name=root).build(endpoint, values)


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


def verification() -> str:
    """A member's page of their organisation's verification."""
    return _path("verification.apply")


def verification_review(request_id: int) -> str:
    """An administrator's page of one verification request."""
    return _path("verification.review", request_id=request_id)


def login() -> str:
    return _path("accounts.login")


def forgot_password() -> str:
    return _path("accounts.forgot_password")


def password_reset(token: str) -> str:
    return _path("accounts.reset_password", token=token)


def publicity(publicity_id: int) -> str:
    return _path("trade.publicity", publicity_id=publicity_id)


def sale(listing_id: int) -> str:
    """A 挂牌 (a result listed for sale)."""
    return _path("trade.listing", listing_id=listing_id)


def auction(auction_id: int) -> str:
    return _path("trade.auction", auction_id=auction_id)


def deal(deal_id: int) -> str:
    return _path("trade.deal", deal_id=deal_id)


def contract_registration(contract_id: int) -> str:
    return _path("trade.contract_registration", contract_id=contract_id)


def agency(org_id: int) -> str:
    return _path("directory.agency", org_id=org_id)


def broker(user_id: int) -> str:
    return _path("directory.broker", user_id=user_id)


def broker_requests() -> str:
    """The 请经纪人 requests a user sent or received."""
    return _path("directory.requests")


def notice(notice_id: int) -> str:
    return _path("notices.detail", notice_id=notice_id)


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


def challenge(need_id: int) -> str:
    """A 揭榜挂帅 challenge's public page."""
    return _path("challenges.detail", need_id=need_id)


def challenge_applicants(need_id: int) -> str:
    """The owner's and agents' side-by-side view of the applicants."""
    return _path("challenges.applicants", need_id=need_id)


def challenge_application(need_id: int, application_id: int) -> str:
    return _path("challenges.application", need_id=need_id, application_id=application_id)


def favourites() -> str:
    """我的收藏: saved listings, followed organisations, saved searches."""
    return _path("saved.index")


def unsubscribe(token: str) -> str:
    """The one-click unsubscribe link of a saved search's digest."""
    return _path("saved.unsubscribe", token=token)


def messages(match_id: int) -> str:
    """The message thread of an introduced match."""
    return _path("messages.thread", match_id=match_id)


def linked_record(record_id: int) -> str:
    """A partner platform's record as shown here (with its introduction requests)."""
    return _path("federation.linked", record_id=record_id)


def incoming_introduction(introduction_id: int) -> str:
    """An introduction a partner platform asked of us."""
    return _path("federation.incoming", introduction_id=introduction_id)
