from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer
from tortoise.context import TortoiseContext

from admin_web.app import create_app
from crm.config import Settings


@pytest.mark.usefixtures("db")
async def test_healthz_reports_database(backend: str, db: TortoiseContext) -> None:
    app = create_app(Settings(secret_key="x" * 40))
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/healthz")
        assert resp.status == 200
        body = await resp.json()
        assert body["database"] == {"status": "ok", "dialect": backend}
