"""Writing one batch of imported rows: match each row to an existing client (INN, email,
phone; earlier rows of the same import included), update the matches, insert the rest.
One transaction per batch; new rows go in with COPY (PostgreSQL) or executemany (SQLite)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from tortoise import connections
from tortoise.transactions import in_transaction

from crm import clock
from crm.company import get_company
from crm.fields import TypedValue
from crm.history import change_rows
from crm.imports.values import Failed, ImportOptions, Row
from crm.models import ChangeRecord, Client, ClientContact, ContactKind, FieldValue, User

TS = ("id", "created_at", "updated_at")
CLIENT_COLUMNS = (
    *TS, "kind", "name", "legal_name", "inn", "kpp", "org_form", "birthday", "birthday_md",
    "region", "timezone", "relation_type", "responsible_id", "is_lead", "lead_source", "note",
)  # fmt: skip
CONTACT_COLUMNS = (*TS, "client_id", "kind", "value", "position")
TAG_COLUMNS = ("clients_id", "tag_id")
VALUE_COLUMNS = (
    *TS, "client_id", "definition_id", "value_string", "value_number", "value_flag",
    "value_date", "value_option_id",
)  # fmt: skip
HISTORY_COLUMNS = (*TS, "entity", "entity_id", "field", "old", "new", "actor_id")
UPDATABLE = ("name", "legal_name", "inn", "kpp", "org_form", "birthday", "region", "note",
             "lead_source")  # fmt: skip


def _keys(row: Row, dedup: tuple[str, ...]) -> list[str]:
    keys = []
    if "inn" in dedup and row.card.get("inn"):
        keys.append("inn:" + row.card["inn"])
    if "email" in dedup:
        keys += ["email:" + e for e in row.emails]
    if "phone" in dedup:
        keys += ["phone:" + p for p in row.phones]
    return keys


def _value_tuple(value: TypedValue) -> tuple[Any, ...]:
    return (value.string, value.number, value.flag, value.day, value.option_id)


class BatchWriter:
    """Writes batches of one import; remembers the clients it created, so a later row
    with the same INN, email or phone updates that client instead of adding a twin."""

    def __init__(
        self,
        options: ImportOptions,
        *,
        actor: User | None,
        tag_id: int | None,
        timezones: dict[str, str],
    ) -> None:
        self.options = options
        self.actor_id = actor.id if actor else None
        self.actor = actor
        self.tag_id = tag_id
        self.timezones = timezones
        self.known: dict[str, int] = {}
        self.postgres = False
        self.default_tz = "Europe/Moscow"
        self._inserted = 0
        self._analyzed_at = 0

    async def start(self) -> None:
        conn = connections.get("default")
        self.postgres = conn.capabilities.dialect == "postgres"
        self.default_tz = (await get_company()).default_timezone

    async def finish(self) -> None:
        if self.postgres and self._inserted:
            await connections.get("default").execute_script("ANALYZE clients, client_contacts")

    async def _analyze_when_grown(self) -> None:
        """The tables an import fills grow fast: refresh the planner's statistics whenever
        they have doubled, or a lookup of 2,000 keys plans as a scan of the whole table."""
        if self._inserted >= max(5_000, self._analyzed_at):
            await connections.get("default").execute_script("ANALYZE clients, client_contacts")
            self._analyzed_at = 2 * self._inserted

    # --- matching ----------------------------------------------------------------------

    async def _existing(self, rows: list[Row]) -> dict[str, int]:
        """Key -> id of a live client already in the database with that INN/email/phone."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            for key in _keys(row, self.options.dedup):
                if key not in self.known:
                    kind, _, value = key.partition(":")
                    wanted[kind].add(value)
        found: dict[str, int] = {}
        if self.postgres:
            await self._analyze_when_grown()
            conn = connections.get("default")
            pairs: list[tuple[str, int]] = []
            if wanted["inn"]:
                hits = await conn.execute_query_dict(
                    "SELECT inn AS value, id AS client_id FROM clients "
                    "WHERE inn = ANY($1::text[]) AND merged_into_id IS NULL ORDER BY id",
                    [list(wanted["inn"])],
                )
                pairs += [(f"inn:{r['value']}", int(r["client_id"])) for r in hits]
            for kind in ("email", "phone"):
                if wanted[kind]:
                    hits = await conn.execute_query_dict(
                        "SELECT value, client_id FROM client_contacts "
                        "WHERE kind = $1 AND value = ANY($2::text[]) ORDER BY client_id",
                        [kind, list(wanted[kind])],
                    )
                    pairs += [(f"{kind}:{r['value']}", int(r["client_id"])) for r in hits]
            merged = set()
            if pairs:
                hits = await conn.execute_query_dict(
                    "SELECT id FROM clients WHERE id = ANY($1::int[]) "
                    "AND merged_into_id IS NOT NULL",
                    [list({cid for _, cid in pairs})],
                )
                merged = {int(r["id"]) for r in hits}
            for key, client_id in pairs:
                if client_id not in merged:
                    found.setdefault(key, client_id)
            return found
        if wanted["inn"]:
            for inn, client_id in (
                await Client.filter(inn__in=list(wanted["inn"]), merged_into_id__isnull=True)
                .order_by("id")
                .values_list("inn", "id")
            ):
                found.setdefault(f"inn:{inn}", client_id)
        for kind in ("email", "phone"):
            if wanted[kind]:
                rows_found = (
                    await ClientContact.filter(
                        kind=ContactKind(kind),
                        value__in=list(wanted[kind]),
                        client__merged_into_id__isnull=True,
                    )
                    .order_by("client_id")
                    .values_list("value", "client_id")
                )
                for value, client_id in rows_found:
                    found.setdefault(f"{kind}:{value}", client_id)
        return found

    def _match(self, rows: list[Row], existing: dict[str, int]) -> tuple[list[Row], list[Row]]:
        """Split into new rows and updates; rows matching a new row of this batch are
        folded into it (its values win where given)."""
        new: list[Row] = []
        updates: list[Row] = []
        pending: dict[str, Row] = {}
        for row in rows:
            keys = _keys(row, self.options.dedup)
            target = next((self.known.get(k) or existing.get(k) for k in keys
                           if self.known.get(k) or existing.get(k)), None)  # fmt: skip
            if target is not None:
                row.client_id = target
                updates.append(row)
                continue
            first = next((pending[k] for k in keys if k in pending), None)
            if first is not None:
                _fold(first, row)
                updates.append(row)  # counted as an update of the row created just now
                row.client_id = -1
                for key in _keys(first, self.options.dedup):
                    pending.setdefault(key, first)
                continue
            new.append(row)
            for key in keys:
                pending.setdefault(key, row)
        return new, updates

    # --- writing -----------------------------------------------------------------------

    async def write(self, rows: list[Row]) -> tuple[int, int, list[Failed]]:
        """Write one batch; returns (created, updated, rows refused while writing)."""
        if not rows:
            return 0, 0, []
        existing = await self._existing(rows)
        new, updates = self._match(rows, existing)
        now = clock.now()
        async with in_transaction() as tx:
            ids = await self._allocate(tx, "clients", len(new))
            for row, client_id in zip(new, ids, strict=True):
                row.client_id = client_id
            await self._insert_new(tx, new, now)
            await self._update(tx, [r for r in updates if r.client_id and r.client_id > 0], now)
        for row in new:
            for key in _keys(row, self.options.dedup):
                self.known.setdefault(key, cast(int, row.client_id))
        self._inserted += len(new)
        return len(new), len(updates), []

    async def _allocate(self, tx: Any, table: str, count: int) -> list[int]:
        """Ids for `count` new rows of `table`, taken from its sequence (PostgreSQL) or
        past its largest id (SQLite: one writer, inside this transaction)."""
        if not count:
            return []
        if self.postgres:
            rows = await tx.execute_query_dict(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id "
                "FROM generate_series(1, $1)",
                [count],
            )
            return [int(r["id"]) for r in rows]
        rows = await tx.execute_query_dict(f"SELECT MAX(id) AS top FROM {table}")
        start = int(rows[0]["top"] or 0) + 1
        return list(range(start, start + count))

    async def _copy(
        self, tx: Any, table: str, columns: tuple[str, ...], records: list[Any]
    ) -> None:
        if not records:
            return
        if self.postgres:
            async with tx.acquire_connection() as raw:
                await raw.copy_records_to_table(table, records=records, columns=columns)
            return
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        await tx.execute_many(sql, [list(r) for r in records])

    def _text(self, value: Any) -> Any:
        """SQLite's driver binds no Decimal: it is stored as text, as tortoise does."""
        if not self.postgres and isinstance(value, Decimal):
            return str(value)
        return value

    async def _insert_new(self, tx: Any, rows: list[Row], now: datetime) -> None:
        if not rows:
            return
        o, t = self.options, self._text
        clients, contacts, tags, values, history = [], [], [], [], []
        for row in rows:
            card, cid = row.card, row.client_id
            birthday = card.get("birthday")
            region = card.get("region", "")
            clients.append((
                cid, t(now), t(now), row.kind.value, card["name"], card.get("legal_name", ""),
                card.get("inn"), card.get("kpp"), card.get("org_form", ""), t(birthday),
                birthday.month * 100 + birthday.day if birthday else None, region,
                self.timezones.get(region.strip(), self.default_tz), o.relation_type,
                o.responsible_id, False, card.get("lead_source", ""), card.get("note", ""),
            ))  # fmt: skip
            for kind, items in ((ContactKind.PHONE, row.phones), (ContactKind.EMAIL, row.emails)):
                contacts += [(cid, kind.value, v, i) for i, v in enumerate(items)]
            if self.tag_id:
                tags.append((cid, self.tag_id))
            values += [
                (cid, v.definition.id, *map(t, _value_tuple(v))) for v in row.custom if not v.empty
            ]
            history.append(("client", cid, "name", None, card["name"], self.actor_id))
        await self._copy(tx, "clients", CLIENT_COLUMNS, clients)
        await self._copy_with_ids(tx, "client_contacts", CONTACT_COLUMNS, contacts, now)
        await self._copy(tx, "client_tags", TAG_COLUMNS, tags)
        await self._copy_with_ids(tx, "field_values", VALUE_COLUMNS, values, now)
        await self._copy_with_ids(tx, "change_records", HISTORY_COLUMNS, history, now)

    async def _copy_with_ids(
        self, tx: Any, table: str, columns: tuple[str, ...], records: list[Any], now: datetime
    ) -> None:
        """Rows nothing refers to yet: PostgreSQL numbers them from the table's sequence
        (no id column in the COPY); SQLite gets explicit ids past the largest."""
        stamp = self._text(now)
        if self.postgres:
            await self._copy(tx, table, columns[1:], [(stamp, stamp, *r) for r in records])
            return
        ids = await self._allocate(tx, table, len(records))
        await self._copy(
            tx, table, columns, [(i, stamp, stamp, *r) for i, r in zip(ids, records, strict=True)]
        )

    async def _update(self, tx: Any, rows: list[Row], now: datetime) -> None:
        """Existing clients take the row's non-empty values, contacts, custom values, tag."""
        if not rows:
            return
        ids = sorted({cast(int, r.client_id) for r in rows})
        clients = {c.id: c for c in await Client.filter(id__in=ids).using_db(tx)}
        history: list[ChangeRecord] = []
        changed: set[str] = set()
        for row in rows:
            client = clients[cast(int, row.client_id)]
            before = {k: getattr(client, k) for k in UPDATABLE}
            for key in UPDATABLE:
                if row.card.get(key) not in (None, ""):
                    setattr(client, key, row.card[key])
            if "birthday" in row.card:
                client.birthday_md = row.card["birthday"].month * 100 + row.card["birthday"].day
            after = {k: getattr(client, k) for k in UPDATABLE}
            rows_changed = change_rows("client", client.id, before, after, actor=self.actor)
            changed |= {r.field for r in rows_changed}
            history += rows_changed
        if changed:
            fields = sorted(changed | ({"birthday_md"} if "birthday" in changed else set()))
            for client in clients.values():
                client.updated_at = now
            await Client.bulk_update(
                list(clients.values()), fields=[*fields, "updated_at"], batch_size=500, using_db=tx
            )
        await self._add_contacts(tx, rows, ids, now)
        await self._set_values(tx, rows, now)
        if self.tag_id:
            tagged: set[int] = set(
                await Client.filter(id__in=ids, tags__id=self.tag_id)
                .using_db(tx)
                .values_list("id", flat=True)  # type: ignore[arg-type]
            )
            await self._copy(
                tx, "client_tags", TAG_COLUMNS, [(i, self.tag_id) for i in ids if i not in tagged]
            )
        for record in history:
            record.created_at = record.updated_at = now
        if history:
            await ChangeRecord.bulk_create(history, batch_size=1000, using_db=tx)

    async def _add_contacts(self, tx: Any, rows: list[Row], ids: list[int], now: datetime) -> None:
        have: dict[int, set[tuple[str, str]]] = defaultdict(set)
        count: dict[tuple[int, str], int] = defaultdict(int)
        for client_id, kind, value in (
            await ClientContact.filter(client_id__in=ids)
            .using_db(tx)
            .values_list("client_id", "kind", "value")
        ):
            have[client_id].add((str(kind), value))
            count[(client_id, str(kind))] += 1
        new = []
        for row in rows:
            cid = cast(int, row.client_id)
            for kind, items in ((ContactKind.PHONE, row.phones), (ContactKind.EMAIL, row.emails)):
                for value in items:
                    if (kind.value, value) not in have[cid]:
                        have[cid].add((kind.value, value))
                        new.append((cid, kind.value, value, count[(cid, kind.value)]))
                        count[(cid, kind.value)] += 1
        await self._copy_with_ids(tx, "client_contacts", CONTACT_COLUMNS, new, now)

    async def _set_values(self, tx: Any, rows: list[Row], now: datetime) -> None:
        latest: dict[tuple[int, int], TypedValue] = {}
        for row in rows:
            for value in row.custom:
                latest[(cast(int, row.client_id), value.definition.id)] = value
        if not latest:
            return
        by_definition: dict[int, list[int]] = defaultdict(list)
        for client_id, definition_id in latest:
            by_definition[definition_id].append(client_id)
        for definition_id, client_ids in by_definition.items():
            await (
                FieldValue.filter(definition_id=definition_id, client_id__in=client_ids)
                .using_db(tx)
                .delete()
            )
        t = self._text
        records = [
            (cid, did, *map(t, _value_tuple(v))) for (cid, did), v in latest.items() if not v.empty
        ]
        await self._copy_with_ids(tx, "field_values", VALUE_COLUMNS, records, now)


def _fold(first: Row, later: Row) -> None:
    """A later row of the same client, before the client exists: merge into the first."""
    for key, value in later.card.items():
        if value not in (None, ""):
            first.card[key] = value
    first.phones = list(dict.fromkeys(first.phones + later.phones))
    first.emails = list(dict.fromkeys(first.emails + later.emails))
    custom = {v.definition.id: v for v in first.custom}
    custom.update({v.definition.id: v for v in later.custom})
    first.custom = list(custom.values())
