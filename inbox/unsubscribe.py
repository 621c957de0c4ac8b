"""One-click unsubscribe from mailings (RFC 8058), served by crmhub without a login.

A mailing's email carries

    List-Unsubscribe: <https://crm.example/unsubscribe/{client}.{signature}>
    List-Unsubscribe-Post: List-Unsubscribe=One-Click

The signature is an HMAC-SHA256 of the client id keyed by the install's secret key, so only
links crmhub made work; they do not expire (an old letter's link must still unsubscribe).
A mail client's one-click POST unsubscribes at once; a person opening the link (GET) sees
a page with one button that POSTs the same. A forged link gets 404 before the database is
asked anything. Unsubscribing is the opt-out of `crm.mailings.consent`: kept forever."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from html import escape

from aiohttp import web

from crm.company import get_company
from crm.i18n import N_, gettext
from crm.mailings import consent
from crm.models import Client

__all__ = ["UnsubscribeLinks", "add_routes"]

ROUTE = "/unsubscribe/{client_id:\\d{1,18}}.{signature:[0-9a-f]{32}}"

TITLE = N_("Unsubscribe from mailings")
ASK = N_("Press the button to stop receiving our mailings.")
BUTTON = N_("Unsubscribe")
DONE = N_("You have unsubscribed from our mailings and will not receive them again.")


@dataclass(frozen=True)
class UnsubscribeLinks:
    public_url: str
    secret_key: str

    def _signature(self, client_id: int) -> str:
        key = hashlib.sha256(b"crmhub-unsubscribe:" + self.secret_key.encode()).digest()
        return hmac.new(key, str(client_id).encode(), hashlib.sha256).hexdigest()[:32]

    def url(self, client_id: int) -> str:
        if not self.public_url:
            raise ValueError("no public URL is configured")
        path = f"/unsubscribe/{client_id}.{self._signature(client_id)}"
        return self.public_url.rstrip("/") + path

    def valid(self, client_id: int, signature: str) -> bool:
        return bool(self.secret_key) and hmac.compare_digest(signature, self._signature(client_id))


def _page(locale: str, body: str) -> web.Response:
    title = escape(gettext(TITLE, locale))
    html = (
        f'<!doctype html><html lang="{escape(locale)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width">'
        f"<title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8")


def add_routes(app: web.Application, links: UnsubscribeLinks) -> None:
    async def client_of(request: web.Request) -> int:
        client_id = int(request.match_info["client_id"])
        if not links.valid(client_id, request.match_info["signature"]):
            raise web.HTTPNotFound()
        return client_id

    async def ask(request: web.Request) -> web.Response:
        await client_of(request)
        locale = (await get_company()).default_locale
        body = (
            f"<p>{escape(gettext(ASK, locale))}</p>"
            f'<form method="post"><button type="submit">'
            f"{escape(gettext(BUTTON, locale))}</button></form>"
        )
        return _page(locale, body)

    async def unsubscribe(request: web.Request) -> web.Response:
        client_id = await client_of(request)
        client = await Client.filter(id=client_id).first()
        if client is not None:  # a deleted client has nobody left to mail
            await consent.opt_out(client.merged_into_id or client.id, via="email")  # type: ignore[attr-defined]
        locale = (await get_company()).default_locale
        return _page(locale, f"<p>{escape(gettext(DONE, locale))}</p>")

    app.router.add_get(ROUTE, ask)
    app.router.add_post(ROUTE, unsubscribe)
