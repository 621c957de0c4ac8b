"""The SQLite engine crmhub runs on: tortoise's, with UPPER and LOWER that know every
alphabet. SQLite's own fold ASCII letters only, and tortoise's case-insensitive filters
compare `UPPER(column) LIKE UPPER(value)`, so on the embedded database a search for "иван"
missed "Иван Петров" (PostgreSQL folds Cyrillic itself). `crm.db` names this module as the
engine of every SQLite connection; the functions are set on each connection it opens."""

from __future__ import annotations

from typing import Any

from tortoise.backends.sqlite.client import SqliteClient


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class UnicodeSqliteClient(SqliteClient):
    async def create_connection(self, with_db: bool) -> None:
        opening = self._connection is None
        await super().create_connection(with_db)
        if opening and self._connection is not None:
            for name, fold in (("upper", _upper), ("lower", _lower)):
                await self._connection.create_function(name, 1, fold, deterministic=True)


client_class = UnicodeSqliteClient


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return UnicodeSqliteClient
