"""The inbox page: the conversations the reader may see, newest first, with unread
counts, waiting time and channel, filtered by scope (all I may see / my clients /
unassigned inquiries), channel and state (waiting for an answer / answered), keyset paged
("Older" carries the last row's cursor). The first page listens to the live desk
(admin_web/static/desk.js) and is refetched when something the reader may see changes,
so a new conversation comes on top and the counters move without a reload."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from admin_web.auth import require_user
from admin_web.render import render
from crm import clock
from crm.channels import channel_filter
from crm.desk_list import SCOPES, STATES, UNREAD_CAP, DeskFilter, desk_rows, parse_cursor
from crm.inquiries import open_inquiries
from crm.models import Channel
from crm.normalize import whole_number

routes = web.RouteTableDef()
PER_PAGE = 50


@routes.get("/inbox")
async def inbox_page(request: web.Request) -> web.StreamResponse:
    user = require_user(request)
    q = request.query
    channels = await Channel.filter(await channel_filter(user)).order_by("name")
    channel_id = whole_number(q.get("channel"), max_digits=10) or None
    if channel_id not in {c.id for c in channels}:
        channel_id = None
    scope, state = q.get("scope", ""), q.get("state", "")
    wanted = DeskFilter(
        scope=scope if scope in SCOPES else "all",
        channel_id=channel_id,
        state=state if state in STATES else "",
        before=parse_cursor(q.get("before")),
    )
    rows = await desk_rows(user, wanted, limit=PER_PAGE + 1)
    shown = rows[:PER_PAGE]
    kept = {
        k: v
        for k, v in (
            ("scope", wanted.scope if wanted.scope != "all" else ""),
            ("channel", str(channel_id or "")),
            ("state", wanted.state),
        )
        if v
    }
    older = (
        "/inbox?" + urlencode({**kept, "before": shown[-1].cursor}) if len(rows) > PER_PAGE else ""
    )
    first = wanted.before is None
    return await render(
        request,
        "inbox.html",
        {
            "rows": shown,
            "older": older,
            "first_page": first,
            "newest": "/inbox?" + urlencode(kept) if kept else "/inbox",
            "wanted": wanted,
            "channels": channels,
            "unread_cap": UNREAD_CAP,
            "now": clock.now(),
            "inquiries": await open_inquiries(user, limit=PER_PAGE)
            if first and wanted.scope == "all" and not kept
            else [],
        },
    )
