"""Import clients from CSV or XLSX: upload, preview, map the columns (remembered), choose
kind, relation type, tag and how to find duplicates; the import runs in the background with
a progress bar and ends with its counts and a file of the rows that failed.

Files are read in a worker thread (`crm.imports.files.load_*`): a large XLSX never holds up
the web process. An upload that cannot be imported (not CSV or XLSX, an encoding that is
neither UTF-8 nor Windows-1251, an XLSX past the limits) is refused and deleted at once."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

from aiohttp import web

from admin_web import forms
from admin_web.auth import require_admin
from admin_web.keys import IMPORTS
from admin_web.render import gettext_for, locale_of, redirect, render
from admin_web.views.clients import relation_choices
from crm.errors import CrmError, NotFound, ValidationFailed
from crm.i18n import N_
from crm.imports.files import TARGET_NAMES, UPLOAD_META, guess_mapping, load_preview, load_table
from crm.imports.jobs import create_job, get_job
from crm.imports.values import DEDUP_KEYS, ImportOptions
from crm.models import FieldDefinition, ImportJob, ImportStatus, User

routes = web.RouteTableDef()
TOKEN = re.compile(r"^[0-9a-f]{32}$")
ALLOWED = (".csv", ".txt", ".xlsx")


def _folder(request: web.Request, token: str) -> Path:
    if not TOKEN.match(token):
        raise NotFound()
    folder = request.app[IMPORTS].folder / token
    if not (folder / UPLOAD_META).exists():
        raise NotFound()
    return folder


def _upload(folder: Path) -> tuple[Path, str]:
    meta = json.loads((folder / UPLOAD_META).read_text(encoding="utf-8"))
    return folder / str(meta["stored"]), str(meta["filename"])


@routes.get("/import")
async def import_page(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    jobs = await ImportJob.all().order_by("-id").limit(10)
    return await render(request, "import.html", {"jobs": jobs})


@routes.post("/import")
async def import_upload(request: web.Request) -> web.StreamResponse:
    require_admin(request)
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
        await load_table(stored, upload.filename)  # refuse an unreadable file now
    except CrmError:
        await asyncio.to_thread(shutil.rmtree, folder, True)  # nothing of it is kept
        raise
    meta = {"filename": Path(upload.filename).name, "stored": stored.name}
    (folder / UPLOAD_META).write_text(json.dumps(meta), encoding="utf-8")
    return redirect(f"/import/{token}")


def _save(upload: web.FileField, stored: Path) -> None:
    stored.parent.mkdir(parents=True, exist_ok=True)
    with stored.open("wb") as target:
        shutil.copyfileobj(upload.file, target)


async def _targets(request: web.Request) -> list[tuple[str, str]]:
    targets = [("", gettext_for(request, N_("— skip —")))]
    targets += [(key, gettext_for(request, name)) for key, name in TARGET_NAMES.items()]
    for definition in await FieldDefinition.filter(is_active=True).order_by("name"):
        targets.append((f"field:{definition.id}", f"★ {definition.name}"))
    return targets


@routes.get(r"/import/{token:[0-9a-f]{32}}")
async def import_preview(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    folder = _folder(request, request.match_info["token"])
    path, filename = _upload(folder)
    table = await load_table(path, filename)
    mapping = await guess_mapping(table.headers)
    return await render(
        request,
        "import_preview.html",
        {
            "token": folder.name,
            "filename": filename,
            "table": table,
            "rows": await load_preview(table),
            "mapping": mapping,
            "targets": await _targets(request),
            "relations": relation_choices(request),
            "people": await User.filter(is_active=True).order_by("full_name"),
            "dedup_keys": DEDUP_KEYS,
        },
    )


@routes.post(r"/import/{token:[0-9a-f]{32}}")
async def import_start(request: web.Request) -> web.StreamResponse:
    admin = require_admin(request)
    folder = _folder(request, request.match_info["token"])
    path, filename = _upload(folder)
    form = await request.post()
    columns = len((await load_table(path, filename)).headers)
    mapping = {i: forms.text(form, f"column_{i}") for i in range(columns)}
    options = ImportOptions(
        mapping={i: t for i, t in mapping.items() if t},
        kind=forms.text(form, "kind", "auto"),
        relation_type=forms.text(form, "relation_type", "buyer"),
        tag=forms.text(form, "tag"),
        dedup=tuple(k for k in DEDUP_KEYS if forms.flag(form, f"dedup_{k}")),
        responsible_id=forms.integer(form, "responsible_id", required=False),
    )
    job = await create_job(path=path, filename=filename, options=options, actor=admin)
    request.app[IMPORTS].start(job.id, locale_of(request))
    return redirect(f"/import/jobs/{job.id}")


def _status(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status.value,
        "total": job.total,
        "processed": job.processed,
        "created": job.created,
        "updated": job.updated,
        "skipped": job.skipped,
        "finished": job.status in (ImportStatus.DONE, ImportStatus.FAILED),
        "error": job.error,
    }


@routes.get(r"/import/jobs/{id:\d+}")
async def job_page(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    job = await get_job(forms.match_int(request.match_info["id"]))
    return await render(request, "import_job.html", {"job": job, "status": _status(job)})


@routes.get(r"/import/jobs/{id:\d+}/status")
async def job_status(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    job = await get_job(forms.match_int(request.match_info["id"]))
    return web.json_response(_status(job))


@routes.get(r"/import/jobs/{id:\d+}/failed.csv")
async def job_failed_rows(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    job = await get_job(forms.match_int(request.match_info["id"]))
    if not job.failed_path or not os.path.exists(job.failed_path):  # noqa: ASYNC240
        raise NotFound()
    return web.FileResponse(
        job.failed_path,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="failed-rows-{job.id}.csv"',
        },
    )
