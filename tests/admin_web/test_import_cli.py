"""`crmhub import clients FILE`: the panel's import from the terminal, with a progress bar."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from tortoise.context import TortoiseContext

from crm import db as crm_db
from crm.config import Settings
from crm.models import Client, ImportJob, Tag
from crmhub import cli
from tests.admin_web.import_data import rows, write_csv


async def test_import_clients_command(
    db: TortoiseContext,  # the command runs on the test database
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    @asynccontextmanager
    async def same_session(url: str) -> AsyncIterator[None]:
        yield

    async def no_migrations(url: str, progress: object = None) -> None:
        return None

    monkeypatch.setattr(cli.db, "session", same_session)
    monkeypatch.setattr(cli.db, "migrate", no_migrations)
    path = write_csv(tmp_path / "clients.csv", rows(60))
    args = cli.build_parser().parse_args(
        ["import", "clients", str(path), "--tag", "CLI", "--map", "Loyalty=", "--map", "2=inn"]
    )
    code = await args.func(Settings(data_dir=tmp_path / "data"), args)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "'ИНН' -> inn (ИНН)" in out and "'Loyalty' -> (не загружается)" in out
    assert "[" in out and "60/60" in out  # the progress bar
    assert "Создано: 59, обновлено: 0, пропущено: 1" in out
    assert "Непринятые строки с причинами:" in out
    assert await Client.all().count() == 59
    assert await Tag.filter(name="CLI").exists()
    job = await ImportJob.get()
    failed = Path(job.failed_path).read_text(encoding="utf-8-sig")  # noqa: ASYNC240
    assert failed.count("\n") == 2

    # the same file name again, changed: a folder of its own, the first import's copy kept
    write_csv(path, rows(3))
    assert await args.func(Settings(data_dir=tmp_path / "data"), args) == 0
    first, second = await ImportJob.all().order_by("id")
    assert Path(first.path).parent != Path(second.path).parent
    assert Path(first.path).read_text(encoding="utf-8").count("\n") == 61  # noqa: ASYNC240
    assert Path(second.path).read_text(encoding="utf-8").count("\n") == 4  # noqa: ASYNC240


def test_parser_knows_the_command() -> None:
    args = cli.build_parser().parse_args(["import", "clients", "x.csv"])
    assert isinstance(args, argparse.Namespace) and args.kind == "auto"
    assert args.dedup == "inn,email,phone"
    assert crm_db is cli.db
