"""`crmhub run` on the embedded default: migrates, serves /healthz, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from crmhub.cli import main as cli_main


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_run_serves_healthz_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CRMHUB_DATA_DIR": str(tmp_path / "data"),
        "CRMHUB_WEB_PORT": str(port),
        "CRMHUB_DATABASE_URL": "",
    }
    env.pop("CRMHUB_MANAGER_BOT_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crmhub.cli",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        body = None
        deadline = asyncio.get_running_loop().time() + 90  # a loaded CI machine starts slowly
        async with aiohttp.ClientSession() as http:
            while asyncio.get_running_loop().time() < deadline and proc.returncode is None:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        body = await resp.json()
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        assert body == {"status": "ok", "database": {"status": "ok", "dialect": "sqlite"}}
        assert (tmp_path / "data" / "crmhub.sqlite3").exists()
        assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 15)
        output = (await proc.stdout.read()).decode() if proc.stdout else ""
        assert code == 0, output
        assert "crmhub stopping" in output
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_createadmin_and_invite(tmp_path: Path, monkeypatch: object, capsys: object) -> None:
    mp = monkeypatch  # type: ignore[assignment]
    mp.setenv("CRMHUB_DATA_DIR", str(tmp_path))  # type: ignore[attr-defined]
    mp.delenv("CRMHUB_DATABASE_URL", raising=False)  # type: ignore[attr-defined]
    mp.chdir(tmp_path)  # type: ignore[attr-defined]
    assert (
        cli_main(
            [
                "createadmin",
                "--email",
                "Boss@Example.com",
                "--name",
                "Босс",
                "--password",
                "s3cret-pass",
            ]
        )
        == 0
    )
    assert (
        cli_main(
            [
                "createadmin",
                "--email",
                "boss@example.com",
                "--name",
                "X",
                "--password",
                "s3cret-pass",
            ]
        )
        == 2
    )
    assert cli_main(["user", "invite", "boss@example.com", "--bot", "acme_crm_bot"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "https://t.me/acme_crm_bot?start=" in out
    assert json.dumps("ok")
