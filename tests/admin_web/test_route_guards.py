"""Every panel route refuses whoever may not use it, before anything is read or written:
anonymous visitors go to the login page, managers get 403 on admin routes, and a POST
without the CSRF token is refused."""

from __future__ import annotations

import re

from aiohttp import web

from crm.models import User
from tests.admin_web.conftest import Browser

# What managers may open (and the desk's forms); every other panel route is for admins.
MANAGER_PAGES = {"/", "/clients", "/clients/{id}", "/deals", "/inbox", "/inbox/{id}"}
# ... and the one write they make there: a phone the customer shared in Viber, added to a
# client they see (crm.suggested_phones checks the client's access).
MANAGER_PAGES |= {"/clients/{id}/phones/suggested"}
# ... and the reports, which count a manager's own work (crm.reports.scope)
REPORT = "/reports/{report}"
MANAGER_PAGES |= {"/reports", REPORT, REPORT + "/records"}
# The deal page and the board: managers work their own deals there (not read-only)
MANAGER_PAGES |= {"/board", "/board/move", "/deals/{id}", "/deals/{id}/plan"}
MANAGER_PAGES |= {f"/deals/{{id}}/{action}" for action in ("edit", "move", "win", "lose")}
MANAGER_PAGES |= {"/deals/{id}/reopen", "/deals/{id}/note"}
MANAGER_PAGES |= {"/deals/{id}/feed/{item}/cancel", "/deals/{id}/feed/{item}/restore"}
MANAGER_PAGES |= {"/deals/{id}/feed/{item}/done"}
# Money facts on the deal page: a manager bills and records payments of their own deals
MANAGER_PAGES |= {"/deals/{id}/invoices", "/deals/{id}/invoices/{invoice}/payments"}
MANAGER_PAGES |= {
    "/deals/{id}/invoices/{invoice}/edit",
    "/deals/{id}/invoices/{invoice}/delete",
    "/deals/{id}/payments/{payment}/delete",
}
MANAGER_PAGES |= {"/inbox/events", "/inbox/{id}/reply", "/inbox/{id}/messages/{message}/retry"}
MANAGER_PAGES |= {"/inbox/{id}/notes", "/inbox/{id}/notes/{note}/edit"}
MANAGER_PAGES |= {"/inbox/{id}/notes/{note}/delete"}
MANAGER_PAGES |= {f"/inquiries/{{id}}/{action}" for action in ("accept", "reject", "handover")}
# ... and the exports of their client list (only the clients they see)
MANAGER_PAGES |= {"/clients/export.csv", "/clients/export.xlsx"}
# ... and My work: their own planned interactions (crm.interactions.access_interaction)
MANAGER_PAGES |= {"/work", "/work/{id}/done", "/work/{id}/snooze"}
# ... quick replies: their own (shared ones are the admin's: crm.quick_replies refuses),
# the list a conversation's reply box picks from; writing first to a client they see
MANAGER_PAGES |= {"/quick-replies", "/quick-replies/{id}", "/quick-replies/{id}/delete"}
MANAGER_PAGES |= {"/inbox/{id}/quick-replies", "/clients/{id}/write"}
# ... and segments: the list and a segment's composition, their own clients among the
# members; the AB/XYZ matrix of their own clients (editing and recomputing are refused)
MANAGER_PAGES |= {"/segments", "/segments/{segment_id}", "/reports/abcxyz"}
OPEN = {"/login", "/logout", "/onboarding", "/healthz"}


def panel_routes(app: web.Application) -> list[tuple[str, str]]:
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or ""
        if not path or path.startswith(("/api/", "/static", "/webhooks")) or route.method == "HEAD":
            continue
        found.append((route.method, path))
    return found


def concrete(path: str) -> str:
    path = re.sub(r"\{token[^}]*\}", "0" * 32, path)
    path = re.sub(r"\{report[^}]*\}", "funnel", path)
    path = re.sub(r"\{kind\}", "loss" if "reasons" in path else "telegram", path)
    return re.sub(r"\{[^}]+\}", "1", path)


async def test_anonymous_visitors_are_sent_to_login(browser: Browser, admin: User) -> None:
    routes = panel_routes(browser.app)
    assert len(routes) > 50
    for method, path in routes:
        if path in OPEN:
            continue
        url = concrete(path)
        if method == "GET":
            resp = await browser.client.get(url, allow_redirects=False)
            assert resp.status == 303 and resp.headers["Location"].startswith("/login"), url
        else:
            status, _ = await browser.post(url, {}, follow=False)
            assert status in (303, 403), (method, url, status)


async def test_managers_are_refused_every_admin_route(as_manager: Browser) -> None:
    for method, path in panel_routes(as_manager.app):
        if path in OPEN or path in MANAGER_PAGES:
            continue
        url = concrete(path)
        if method == "GET":
            status, text = await as_manager.get(url)
            assert status == 403, (method, url, status)
        else:
            await as_manager.get("/")
            status, text = await as_manager.post(url, {})
        assert "You are not allowed to do this" in text, (method, url)


async def test_posts_without_csrf_are_refused(as_admin: Browser) -> None:
    for method, path in panel_routes(as_admin.app):
        if method != "POST" or path in ("/healthz",):
            continue
        resp = await as_admin.client.post(concrete(path), data={"x": "1"}, allow_redirects=False)
        assert resp.status == 403, path


async def test_signed_media_links_skip_onboarding_and_sessions(
    db: object, settings: object
) -> None:
    """Viber fetches a reply's file from /media/ before anyone may have signed up: the
    link answers for itself (404 for this forged one), no redirect to onboarding."""
    from aiohttp.test_utils import TestClient, TestServer

    from admin_web.app import create_app
    from inbox.service import Inbox

    app = create_app(settings)  # type: ignore[arg-type]
    hub = Inbox(public_url="https://crm.example", secret_key="k" * 48)
    hub.mount(app)
    async with TestClient(TestServer(app)) as client:
        assert not await User.exists()
        resp = await client.get(f"/media/1/0/9999999999.{'0' * 64}/a.jpg", allow_redirects=False)
        assert resp.status == 404
        assert "Set-Cookie" not in resp.headers
        onboarding = await client.get("/clients", allow_redirects=False)
        assert onboarding.headers.get("Location") == "/onboarding"  # the panel itself does
    await hub.adapters.close()
