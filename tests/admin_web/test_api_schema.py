"""schemathesis against /api/v1/openapi.json, as CI runs it: its command line with every
check (no 5xx; answers, statuses, content types and headers as documented; schema-invalid
requests refused and schema-valid ones accepted; 405 with `Allow` for other methods; a
missing key refused; in the stateful phase, along the links it infers, no created resource
missing or a deleted one still there), over all four phases with a bounded number of
examples per operation. `schemathesis.toml` beside this file lists the only
exceptions (rules JSON Schema cannot state), with why."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from tortoise.context import TortoiseContext

from admin_web.app import create_app
from crm import clients, conversations, deals, fields, interactions, scenarios
from crm.apikeys import create_key
from crm.config import Settings
from crm.db import tortoise_config
from crm.interactions import Plan
from crm.models import (
    Channel,
    ChannelIdentity,
    ChannelKind,
    Conversation,
    Reason,
    ReasonKind,
    Role,
)
from crm.money import invoices, payments
from crm.users import create_user

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = 5  # per operation and phase: the run stays well under a minute


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
    deal = await deals.create_interest(actor=admin, client_id=client.id, title="Сделка")
    invoice = await invoices.issue_invoice(actor=admin, interest_id=deal.id, amount="1000000")
    await payments.record_payment(actor=admin, invoice_id=invoice.id, amount="100")
    soon = datetime.now(UTC) + timedelta(days=1)
    await interactions.plan_interaction(
        Plan(kind="call", planned_at=soon), actor=admin, client_id=client.id
    )
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


def test_every_check_passes_on_every_operation(api_server: ApiServer) -> None:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        f"{api_server.url}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {api_server.key}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(EXAMPLES),
        "--workers",
        "1",
        "--seed",
        "13",
        "--no-color",
        "--suppress-health-check",
        "too_slow",  # generation speed depends on the machine's load, not on the API
    ]
    run = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=900,  # 63 operations; a loaded machine takes minutes
        check=False,
        cwd=api_server.data_dir,  # where schemathesis keeps its cache
    )
    report = run.stdout[-20000:] + run.stderr[-4000:]
    assert run.returncode == 0, report
    assert "Tested: 63" in run.stdout, report  # every operation of the document
