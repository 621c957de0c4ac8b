"""A configuration crmhub cannot work with stops every command at once: one line naming the
variable and what to do, in the operator's language, exit status 2, no traceback. Each
case is a real `crmhub` process."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

PG_DSN = os.environ.get("CRMHUB_TEST_PG_DSN", "")
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/crmhub"


async def crmhub(*args: str, **env: str) -> tuple[int, list[str]]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CRMHUB_")}
    environ.update(env)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crmhub.cli",
        *args,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert not out.strip(), out
    return proc.returncode or 0, err.decode().splitlines()


@pytest.mark.parametrize(
    ("url", "locale", "said"),
    [
        (
            "postgresql//x",
            "en",
            "Not a database address: write postgresql://user:password@host:5432/name, "
            "or leave it unset for SQLite in CRMHUB_DATA_DIR",
        ),
        (
            "postgresql://db.example",  # no database name
            "en",
            "Not a database address: write postgresql://user:password@host:5432/name, "
            "or leave it unset for SQLite in CRMHUB_DATA_DIR",
        ),
        (
            "mysql://crm:secret@127.0.0.1/crm",
            "ru",
            "Поддерживаются только PostgreSQL (postgresql://пользователь:пароль@сервер:5432/имя) "
            "и SQLite (sqlite:///путь/crmhub.sqlite3)",
        ),
    ],
)
async def test_a_database_url_that_is_not_one_is_refused(
    url: str, locale: str, said: str, tmp_path: Path
) -> None:
    code, err = await crmhub(
        "migrate",
        CRMHUB_DATABASE_URL=url,
        CRMHUB_DEFAULT_LOCALE=locale,
        CRMHUB_DATA_DIR=str(tmp_path),
    )
    assert (code, err) == (2, [f"error: CRMHUB_DATABASE_URL: {said}"])
    assert _empty(tmp_path)  # nothing ran


async def test_an_unreachable_postgresql_is_waited_for_then_named(tmp_path: Path) -> None:
    code, err = await crmhub(
        "createadmin",
        "--email",
        "boss@example.com",
        "--name",
        "Boss",
        "--password",
        "long enough",
        CRMHUB_DATABASE_URL=UNREACHABLE,
        CRMHUB_DEFAULT_LOCALE="en",
        CRMHUB_SECRET_KEY="k" * 48,
        CRMHUB_DATA_DIR=str(tmp_path),
    )
    assert (code, err) == (
        2,
        [
            "error: CRMHUB_DATABASE_URL: PostgreSQL at 127.0.0.1:1 does not answer (tried "
            "for 5 s): start it, or correct the host and port"
        ],
    )


@pytest.mark.skipif(not PG_DSN, reason="needs CRMHUB_TEST_PG_DSN")
async def test_a_missing_database_says_how_to_create_it(tmp_path: Path) -> None:
    parts = urlsplit(PG_DSN)
    name = f"crmhub_missing_{secrets.token_hex(4)}"
    url = urlunsplit(parts._replace(path=f"/{name}"))
    code, err = await crmhub(
        "run", CRMHUB_DATABASE_URL=url, CRMHUB_DEFAULT_LOCALE="en", CRMHUB_DATA_DIR=str(tmp_path)
    )
    host, port, user = parts.hostname, parts.port or 5432, parts.username
    assert (code, err) == (
        2,
        [
            f"error: CRMHUB_DATABASE_URL: The database {name} does not exist at {host}:{port}: "
            f"create it with createdb -h {host} -p {port} -U {user} {name}"
        ],
    )


@pytest.mark.parametrize("command", ["migrate", "run"])
async def test_a_data_dir_that_is_a_file_is_refused(command: str, tmp_path: Path) -> None:
    """Checked at start even when the database is PostgreSQL and the secret key is set
    (`run` keeps uploads there): before the database is asked."""
    data = tmp_path / "data"
    data.write_text("not a folder")
    env = {"CRMHUB_DATA_DIR": str(data), "CRMHUB_DEFAULT_LOCALE": "en"}
    if command == "run":
        env |= {"CRMHUB_DATABASE_URL": UNREACHABLE, "CRMHUB_SECRET_KEY": "k" * 48}
    code, err = await crmhub(command, **env)
    assert (code, err) == (
        2,
        [f"error: CRMHUB_DATA_DIR: {data} is not a folder: set a folder crmhub may write to"],
    )
    sub = tmp_path / "data" / "crm"  # a folder inside a file
    code, err = await crmhub(command, **{**env, "CRMHUB_DATA_DIR": str(sub)})
    assert code == 2 and err == [
        f"error: CRMHUB_DATA_DIR: {sub} is not a folder: set a folder crmhub may write to"
    ]


async def test_a_data_dir_crmhub_cannot_write_to_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere permissions say no; sysfs refuses it
        data = Path("/sys/kernel")
        if os.access(data, os.W_OK) and not _refuses_files(data):
            pytest.skip("no folder here refuses root's files")
    try:
        code, err = await crmhub(
            "run",
            CRMHUB_DATA_DIR=str(data),
            CRMHUB_DEFAULT_LOCALE="ru",
            CRMHUB_DATABASE_URL=UNREACHABLE,
            CRMHUB_SECRET_KEY="k" * 48,
        )
    finally:
        (tmp_path / "data").chmod(0o755)
    assert (code, err) == (
        2,
        [
            f"error: CRMHUB_DATA_DIR: crmhub не может записывать в {data}: дайте права на "
            "запись пользователю, от имени которого он запущен, или укажите другую папку"
        ],
    )


def _empty(folder: Path) -> bool:
    return not any(folder.iterdir())


def _refuses_files(folder: Path) -> bool:
    try:
        (folder / f"probe-{secrets.token_hex(4)}").open("x").close()
    except OSError:
        return True
    return False
