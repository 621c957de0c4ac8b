"""`crmhub createadmin` as a real process: without a terminal and without --password it
says what to do (no EOFError traceback); a password on standard input is taken."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tortoise.context import TortoiseContext

from crm.db import tortoise_config
from crm.models import Company, User

ARGS = ("createadmin", "--email", "boss@example.com", "--name", "Анна Петрова")


async def createadmin(data: Path, stdin: bytes | None, locale: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMHUB_")}
    env |= {"CRMHUB_DATA_DIR": str(data), "CRMHUB_DEFAULT_LOCALE": locale}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crmhub.cli",
        *ARGS,
        env=env,
        stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), 90)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_no_terminal_and_no_password_says_what_to_do(tmp_path: Path) -> None:
    code, out, err = await createadmin(tmp_path / "data", None, "en")
    assert code == 2
    assert err.strip() == (
        "error: No password given: pass --password, run the command in a terminal, or give "
        "the password on standard input"
    )
    assert "Traceback" not in err + out
    code, _, err = await createadmin(tmp_path / "ru", b"", "ru")
    assert code == 2 and err.startswith("error: Пароль не указан") and "Traceback" not in err


async def test_a_password_on_standard_input_is_taken(tmp_path: Path) -> None:
    code, out, err = await createadmin(tmp_path, b"long enough secret\n", "en")
    assert code == 0, err
    assert "boss@example.com created" in out
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(f"sqlite://{tmp_path / 'crmhub.sqlite3'}"))
        user = await User.get(email="boss@example.com")
        assert user.is_admin and user.password_hash
        assert not await Company.filter(onboarded=True).exists()  # the first login asks
