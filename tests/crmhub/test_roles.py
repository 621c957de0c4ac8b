"""`crmhub run --role web` acknowledges webhooks and stores them; `--role worker` (another
process on the same database) turns them into messages."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
from tortoise.context import TortoiseContext

from crm import channels, db
from crm.models import Message, RawEvent
from tests.crm import factories
from tests.crmhub.test_run import free_port
from tests.fakes.base import load_fixture


async def start(role: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crmhub.cli", "run", "--role", role,
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def test_a_web_and_a_worker_process_share_the_work(tmp_path: Path) -> None:
    data = tmp_path / "data"
    url = f"sqlite://{data / 'crmhub.sqlite3'}"
    async with TortoiseContext():  # migrate() leaves its connection open: close it here
        await db.migrate(url)
        await db.close()
    async with TortoiseContext() as ctx:
        await ctx.init(config=db.tortoise_config(url))
        admin = await factories.admin()
        await factories.scenario(require_next_step=False)
        channel = await channels.create_channel(
            kind="telegram", name="Бот", credentials={"token": "1:x"},
            settings={"mode": "webhook"}, actor=admin,
        )  # fmt: skip
        await ctx.close_connections()
    port = free_port()
    env = {
        **os.environ,
        "CRMHUB_DATA_DIR": str(data),
        "CRMHUB_DATABASE_URL": "",
        "CRMHUB_WEB_PORT": str(port),
    }
    env.pop("CRMHUB_MANAGER_BOT_TOKEN", None)
    web = await start("web", env)
    worker = None
    try:
        body = json.dumps(load_fixture("telegram", "message_text")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": channel.credentials["webhook_secret"],
        }
        status = None
        async with aiohttp.ClientSession() as http:
            for _ in range(600):  # up to 60 s: a loaded CI machine starts slowly
                try:
                    async with http.post(
                        f"http://127.0.0.1:{port}/webhooks/telegram/{channel.id}",
                        data=body,
                        headers=headers,
                    ) as resp:
                        status = resp.status
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        assert status == 200
        async with TortoiseContext() as ctx:
            await ctx.init(config=db.tortoise_config(url))
            await asyncio.sleep(1.0)
            assert await RawEvent.filter(status="pending").count() == 1  # nobody processes
            assert not await Message.exists()
            worker = await start("worker", env)
            for _ in range(600):  # up to 60 s: a loaded CI machine starts slowly
                if await Message.exists():
                    break
                await asyncio.sleep(0.1)
            assert await Message.all().count() == 1
            await ctx.close_connections()
    finally:
        for proc in (web, worker):
            if proc is not None and proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 20)
