"""schemathesis against /api/v1/openapi.json: generated requests, valid and invalid, to
every operation. No answer may be a 5xx, and none may break the document's own schema
(status codes, content types, bodies)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from tortoise.context import TortoiseContext

from admin_web.app import create_app
from crm import clients, conversations, deals, fields, scenarios
from crm.apikeys import create_key
from crm.config import Settings
from crm.db import tortoise_config
from crm.models import (
    Channel,
    ChannelIdentity,
    ChannelKind,
    Conversation,
    Reason,
    ReasonKind,
    Role,
)
from crm.users import create_user

CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)
EXAMPLES = 30


async def _seed() -> str:
    admin = await create_user(email="api@example.com", full_name="API", role=Role.ADMIN, actor=None)
    await fields.create_field(name="Loyalty", type="list", options=["Gold", "Silver"], actor=None)
    await scenarios.create_scenario(
        "Продажа", ["Первый", "Второй"], require_next_step=False, actor=None
    )
    await Reason.create(kind=ReasonKind.LOSS, text="Дорого")
    client = await clients.create_client(
        actor=admin, kind="legal", name="ООО Альфа", inn="7707083893"
    )
    await deals.create_interest(actor=admin, client_id=client.id, title="Сделка")
    channel = await Channel.create(kind=ChannelKind.TELEGRAM, name="Бот", credentials={})
    identity = await ChannelIdentity.create(channel=channel, external_id="1", client=client)
    conversation = await Conversation.create(channel=channel, identity=identity, client=client)
    await conversations.queue_reply(conversation.id, actor=admin, text="Здравствуйте")
    _, key = await create_key("schemathesis", admin.id, actor=None)
    return key


class ApiServer(threading.Thread):
    """The app with its own SQLite database, serving on a free port in its own loop."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(daemon=True)
        self.data_dir = data_dir
        self.ready = threading.Event()
        self.url = ""
        self.key = ""
        self.loop = asyncio.new_event_loop()
        self._stopping: asyncio.Event | None = None

    def run(self) -> None:
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config("sqlite://:memory:"))
            await ctx.generate_schemas()
            self.key = await _seed()
            app = create_app(Settings(secret_key="k" * 48, data_dir=self.data_dir))
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            self.url = f"http://127.0.0.1:{port}"
            self.ready.set()
            try:
                await self._stopping.wait()
            finally:
                await runner.cleanup()
                await ctx.close_connections()

    def stop(self) -> None:
        if self._stopping is not None:
            self.loop.call_soon_threadsafe(self._stopping.set)
        self.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = ApiServer(tmp_path_factory.mktemp("api"))
    server.start()
    assert server.ready.wait(20), "the API server did not start"
    yield server
    server.stop()


def test_every_operation_keeps_its_schema(api_server: ApiServer) -> None:
    schema = schemathesis.openapi.from_url(f"{api_server.url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {api_server.key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 23  # 19, and the 4 of /inquiries

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
