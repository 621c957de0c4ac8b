"""The README's five-minute tour and its JSON API examples, run from README.md itself on a
fresh data dir, so that the README cannot drift from what crmhub does.

The commands are taken from the code blocks and run by bash as they stand, with only what a
test cannot do otherwise replaced: `make run &` is `crmhub run` started here (on a free
port, replacing 8080 in the examples), `.venv/bin/crmhub` is this interpreter's
`-m crmhub.cli`, the password `createadmin` asks for at the prompt is given as
`--password`, the key "from Settings → API keys" is made with `crm.apikeys`, and curl fails
on an HTTP error (`--fail-with-body`) instead of printing it. The last two API examples need
a customer's conversation: one is made through the hub first, as a channel would.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from tortoise.context import TortoiseContext

from crm import apikeys
from crm.db import tortoise_config
from crm.models import (
    Channel,
    ChannelKind,
    Client,
    FieldValue,
    Interaction,
    Interest,
    Message,
    RelationType,
)
from inbox import hub
from inbox.channels.base import InboundMessage

README = Path(__file__).resolve().parents[2] / "README.md"
PASSWORD = "tour-password-1"
CLI = f"{shlex.quote(sys.executable)} -m crmhub.cli"


def code_block(section: str) -> str:
    """The first ```sh block under the `## {section}` heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    found = re.search(r"```sh\n(.*?)```", text[start : end if end > 0 else None], re.S)
    assert found, f"no sh block under {section!r}"
    return found.group(1)


def commands(block: str) -> list[str]:
    """The block's commands, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def bash(script: str, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        script,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 180)
    return proc.returncode or 0, out.decode()


async def wait_healthy(port: int, proc: asyncio.subprocess.Process) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120  # a loaded machine starts slowly
    async with aiohttp.ClientSession() as http:
        while loop.time() < deadline and proc.returncode is None:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("crmhub run did not answer /healthz")


def tour_command(line: str) -> str:
    command = line.replace(".venv/bin/crmhub", CLI)
    if " createadmin " in command and "--password" not in command:
        command = command.split("#", 1)[0] + f" --password {PASSWORD}"
    return command


async def key_and_conversation(data: Path) -> str:
    """An admin's API key (as Settings → API keys makes one) and a customer's message."""
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(f"sqlite://{data / 'crmhub.sqlite3'}"))
        try:
            _, key = await apikeys.create_key("README", 1, actor=None)
            # No polling mode and an address that refuses at once: the worker's send of the
            # queued reply fails fast and quietly.
            channel = await Channel.create(
                kind=ChannelKind.VIBER,
                name="Viber",
                credentials={"token": "t"},
                settings={},
                api_base=f"http://127.0.0.1:{free_port()}",
            )
            message = InboundMessage("tour-1", "tour-customer", "Пришлите счёт", datetime.now(UTC))
            await hub.ingest(channel, message)
        finally:
            await ctx.close_connections()
    return key


async def test_the_readme_tour_and_api_examples_work_verbatim(tmp_path: Path) -> None:
    tour = commands(code_block("A five-minute tour"))
    api = code_block("The JSON API")
    assert tour[0].startswith("make run &"), tour[0]
    port = free_port()
    data = tmp_path / "data"
    env = {
        **os.environ,
        "CRMHUB_DATA_DIR": str(data),
        "CRMHUB_WEB_PORT": str(port),
        "CRMHUB_DATABASE_URL": "",
        "CRMHUB_PUBLIC_URL": "",
    }
    env.pop("CRMHUB_MANAGER_BOT_TOKEN", None)
    env.pop("CRMHUB_REDIS_URL", None)
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crmhub.cli",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_healthy(port, server)
        outputs = []
        for line in tour[1:]:
            code, out = await bash(tour_command(line), env, tmp_path)
            assert code == 0, f"{line}\n{out}"
            outputs.append(out)
        assert "https://t.me/my_crm_bot?start=" in outputs[-1]

        key = await key_and_conversation(data)
        script = "set -euo pipefail\n" + (
            api.replace("KEY=crm_...", f"KEY={key}")
            .replace("127.0.0.1:8080", f"127.0.0.1:{port}")
            .replace("curl -s ", "curl -sS --fail-with-body ")
        )
        assert f"KEY={key}" in script and f"127.0.0.1:{port}" in script
        code, out = await bash(script, env, tmp_path)
        assert code == 0, out
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(server.wait(), 20)
            except TimeoutError:
                server.kill()
                await server.wait()

    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(f"sqlite://{data / 'crmhub.sqlite3'}"))
        try:
            client = await Client.get(name="ООО Ромашка")
            assert client.relation_type == RelationType.SUPPLIER
            assert await FieldValue.filter(client_id=client.id).exists()
            deal = await Interest.get(client_id=client.id, title="Поставка")
            assert deal.stage_id == 2  # type: ignore[attr-defined]
            assert await Interaction.filter(interest_id=deal.id, state="planned").exists()
            assert await Message.filter(text="Добрый день! Счёт отправили.").exists()
        finally:
            await ctx.close_connections()
