"""Pages of the client list that cost what the first one does: keyset paging.

A page after a cursor (the last row's sort value and id, `Cursor`) is read as at most two
index ranges of (sort column, id): the rows tied with the cursor's value past its id, then
the rows past its value, each stopped at the page (two plain comparisons rather than one
OR, which the planner cannot read as one range). Name, created and last contact are columns
of the clients with such indexes (crm.desk_indexes, partial on live clients, and the same
led by responsible_id for a manager's own).

The responsible's name is no column of the clients: the users are few, so they are read in
the database's order of their names and the list is read a user at a time, each along
(responsible_id, id), until the page is full (users with equal names, and the clients
without a responsible beside users named "", form one group read in id order). The order
is the one `crm.client_list` sorts by: the name ("" for nobody), the id breaking ties."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from crm.models import Client, User

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
COLUMNS = {"name": "name", "last_contact": "last_contact_at", "created": "created_at"}


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the sort (as given, "-name"), the last row's value and id."""

    sort: str
    value: str | int  # a name, or a moment as microseconds since 1970
    id: int

    def text(self) -> str:
        raw = json.dumps([self.sort, self.value, self.id], ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def read(text: str | None, sort: str) -> Cursor | None:
        """A cursor made by `text` for the same sort; anything else is no cursor."""
        if not text or len(text) > 1_000:
            return None
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            found, value, ident = json.loads(raw.decode())
        except (ValueError, TypeError, UnicodeDecodeError):
            return None
        moment = sort.lstrip("-") in ("last_contact", "created")
        if (
            found != sort
            or isinstance(ident, bool)
            or not isinstance(ident, int)
            or not 0 <= ident < 2**31
            or (moment and (isinstance(value, bool) or not isinstance(value, int)))
            or (not moment and not isinstance(value, str))
        ):
            return None
        if moment:
            try:
                EPOCH + timedelta(microseconds=value)
            except OverflowError:
                return None
        return Cursor(sort, value, ident)

    @property
    def moment(self) -> datetime:
        return EPOCH + timedelta(microseconds=int(self.value))


def cursor_of(client: Client, sort: str) -> Cursor:
    """The cursor after `client` (its responsible fetched) in `sort`."""
    key = sort.lstrip("-")
    if key == "responsible":
        person = client.responsible if client.responsible_id else None  # type: ignore[attr-defined]
        return Cursor(sort, str(person.full_name) if person else "", client.id)
    if key == "name":
        return Cursor(sort, client.name, client.id)
    at: datetime = getattr(client, COLUMNS[key])
    return Cursor(sort, (at - EPOCH) // timedelta(microseconds=1), client.id)


async def keyset_page(
    query: QuerySet[Client],
    sort: str,
    after: Cursor | None,
    limit: int,
    *,
    responsible: int | None = None,
) -> list[Client]:
    """Up to `limit` clients of `query` after `after` (from the first without one);
    `responsible`: the one user every client of `query` has (a manager's own list, the
    responsible filter), whose group alone is read in the order by responsible."""
    key, descending = sort.lstrip("-"), sort.startswith("-")
    if key == "responsible":
        return await _by_responsible(query, descending, after, limit, responsible)
    column = COLUMNS[key]
    sign = "-" if descending else ""
    ordered = query.order_by(f"{sign}{column}", f"{sign}id")
    if after is None:
        return await ordered.limit(limit)
    value: Any = after.value if key == "name" else after.moment
    past, beyond = ("lt", "lt") if descending else ("gt", "gt")
    rows = await ordered.filter(**{column: value, f"id__{past}": after.id}).limit(limit)
    if len(rows) < limit:
        rows += await ordered.filter(**{f"{column}__{beyond}": value}).limit(limit - len(rows))
    return rows


async def responsible_groups() -> list[tuple[str, list[int | None]]]:
    """The users in the database's order of their names, equal names (and nobody, as "")
    in one group."""
    rows = await User.all().order_by("full_name", "id").values_list("full_name", "id")
    groups: list[tuple[str, list[int | None]]] = []
    for name, ident in [("", None), *rows]:
        text = str(name or "")
        if groups and groups[-1][0] == text:
            groups[-1][1].append(ident)
        else:
            groups.append((text, [ident]))
    return groups


async def _by_responsible(
    query: QuerySet[Client],
    descending: bool,
    after: Cursor | None,
    limit: int,
    responsible: int | None,
) -> list[Client]:
    groups = await responsible_groups()
    if responsible is not None:
        groups = [(name, [responsible]) for name, ids in groups if responsible in ids]
    if descending:
        groups.reverse()
    sign, past = ("-", "lt") if descending else ("", "gt")
    rows: list[Client] = []
    started = after is None
    for name, ids in groups:
        if not started:
            if name != after.value:  # type: ignore[union-attr]
                # the cursor's group is gone (a user renamed): start where its name would be
                if (name < str(after.value)) != descending:  # type: ignore[union-attr]
                    continue
                started = True
        people = [i for i in ids if i is not None]
        who = [Q(responsible_id__in=people)] if people else []
        if None in ids:
            who.append(Q(responsible_id__isnull=True))
        part = query.filter(Q(*who, join_type=Q.OR)).order_by(f"{sign}id")
        if not started:
            part = part.filter(**{f"id__{past}": after.id})  # type: ignore[union-attr]
            started = True
        rows += await part.limit(limit - len(rows))
        if len(rows) >= limit:
            break
    return rows
