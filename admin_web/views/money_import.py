"""Import invoices and payments from an accounting export (crm.money.imports): upload a
CSV or XLSX, the rows are imported at once, and the result page shows the counts and the
rows that failed with their reasons (also as a CSV file). Admins and heads of sales.

The upload lies in the imports folder like a client import's (its `meta.json`: the
cleanup of abandoned uploads deletes it in time); the result beside it, `result.json`."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
from dataclasses import asdict
from pathlib import Path

from aiohttp import web

from admin_web.auth import require_user
from admin_web.keys import IMPORTS
from admin_web.render import locale_of, redirect, render
from admin_web.views.imports import ALLOWED, _folder, _save
from crm.errors import CrmError, NotFound, PermissionDenied, ValidationFailed
from crm.i18n import N_
from crm.imports.files import UPLOAD_META
from crm.models import User
from crm.money.imports import HEADINGS, import_money

routes = web.RouteTableDef()
COLUMN_LABELS = {
    "inn": N_("Client's INN"),
    "client": N_("Client"),
    "deal": N_("Deal (its number or title)"),
    "number": N_("Invoice number"),
    "issued_on": N_("Invoice date"),
    "due_on": N_("Due date"),
    "amount": N_("Invoice amount"),
    "paid_on": N_("Payment date"),
    "paid": N_("Payment amount"),
}
RESULT = "result.json"
SHOWN = 100  # failed rows listed on the page; all of them in the file


def _headings(request: web.Request) -> dict[str, tuple[str, ...]]:
    """The headings recognised, in the reader's language (all of them in English)."""
    if locale_of(request) != "ru":
        return HEADINGS
    return {
        key: tuple(n for n in names if any("а" <= ch <= "я" or ch == "ё" for ch in n))
        for key, names in HEADINGS.items()
    }


def _reader(request: web.Request) -> User:
    user = require_user(request)
    if not user.sees_everything:
        raise PermissionDenied()
    return user


@routes.get("/import/money")
async def money_import_page(request: web.Request) -> web.StreamResponse:
    _reader(request)
    return await render(
        request,
        "import_money.html",
        {"headings": _headings(request), "column_labels": COLUMN_LABELS, "result": None},
    )


@routes.post("/import/money")
async def money_import_upload(request: web.Request) -> web.StreamResponse:
    user = _reader(request)
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField) or not upload.filename:
        raise ValidationFailed.field("file", N_("Choose a file"))
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in ALLOWED:
        raise ValidationFailed.field("file", N_("Upload a CSV or XLSX file"))
    token = secrets.token_hex(16)
    folder = request.app[IMPORTS].folder / token
    stored = folder / f"source{suffix}"
    await asyncio.to_thread(_save, upload, stored)
    try:
        outcome = await import_money(stored, upload.filename, actor=user, locale=locale_of(request))
    except CrmError:
        await asyncio.to_thread(shutil.rmtree, folder, True)
        raise
    meta = {"filename": Path(upload.filename).name, "stored": stored.name}
    (folder / UPLOAD_META).write_text(json.dumps(meta), encoding="utf-8")
    result = asdict(outcome)
    result["filename"] = meta["filename"]
    result["failed_count"] = len(outcome.failed)
    result["failed"] = result["failed"][:SHOWN]
    (folder / RESULT).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return redirect(f"/import/money/{token}")


@routes.get(r"/import/money/{token:[0-9a-f]{32}}")
async def money_import_result(request: web.Request) -> web.StreamResponse:
    _reader(request)
    folder = _folder(request, request.match_info["token"])
    if not (folder / RESULT).exists():
        raise NotFound()
    result = json.loads((folder / RESULT).read_text(encoding="utf-8"))
    return await render(
        request,
        "import_money.html",
        {
            "headings": _headings(request),
            "column_labels": COLUMN_LABELS,
            "result": result,
            "token": folder.name,
        },
    )


@routes.get(r"/import/money/{token:[0-9a-f]{32}}/failed.csv")
async def money_import_failed(request: web.Request) -> web.StreamResponse:
    _reader(request)
    folder = _folder(request, request.match_info["token"])
    failed = folder / "failed.csv"
    if not failed.exists():
        raise NotFound()
    return web.FileResponse(
        failed,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="failed-money-{folder.name[:8]}.csv"',
        },
    )
