"""Clients, their contacts, key persons and tags. Every write goes through here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from tortoise import connections
from tortoise.models import Model
from tortoise.transactions import in_transaction

from crm import clock, fields, normalize
from crm.access import access_client, client_filter, sees_all_clients
from crm.company import get_company
from crm.errors import NotFound, PermissionDenied, ValidationFailed
from crm.history import HistoryRow, changed_fields, insert_rows, record_changes
from crm.i18n import N_, Text
from crm.models import (
    Client,
    ClientContact,
    ClientKind,
    ContactKind,
    ContactPerson,
    RelationType,
    Tag,
    User,
)
from crm.regions import local_time, timezone_for

CARD_FIELDS = (
    "kind",
    "name",
    "legal_name",
    "inn",
    "kpp",
    "org_form",
    "birthday",
    "region",
    "timezone",
    "relation_type",
    "responsible_id",
    "is_lead",
    "lead_source",
    "note",
)
LIST_FIELDS = ("phones", "emails", "tags")
BULK_FIELDS = (
    "relation_type",
    "responsible_id",
    "region",
    "timezone",
    "is_lead",
    "tags_add",
    "tags_remove",  # tag ids
)


def birthday_key(day: date | None) -> int | None:
    """month * 100 + day: what the birthday index stores."""
    return day.month * 100 + day.day if day else None


def _parse_date(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        try:
            d, m, y = str(value).split(".")
            return date(int(y), int(m), int(d))
        except (ValueError, OverflowError):
            raise ValidationFailed.field(field, N_("Not a date")) from None


def _client_kind(value: Any) -> ClientKind:
    try:
        return ClientKind(value)
    except (ValueError, TypeError):
        raise ValidationFailed.field("kind", N_("Unknown choice")) from None


TOO_LONG = N_("Too long: at most {limit} characters")


def _fits(model: type[Model], column: str, text: str, field: str | None = None) -> str:
    """`text` when the model's column holds it, else "Too long" on `field` (the column),
    saying the limit: a long value is refused, never cut."""
    limit = getattr(model._meta.fields_map[column], "max_length", None)
    if limit is not None and len(text) > limit:
        raise ValidationFailed.field(field or column, TOO_LONG, limit=limit)
    return text


async def _responsible_id(value: Any) -> int:
    """The id of the active user a form or a caller names (an int or its digits)."""
    user_id = (
        value
        if isinstance(value, int) and not isinstance(value, bool)
        else normalize.whole_number(str(value).strip())
    )
    if user_id is None:
        raise ValidationFailed.field("responsible_id", N_("Not a number"))
    if not 0 < user_id < 2**31 or not await User.filter(id=user_id, is_active=True).exists():
        raise ValidationFailed.field("responsible_id", N_("Unknown user"))
    return user_id


def _tag_names(values: Iterable[Any], field: str) -> list[str]:
    names = [str(t).strip() for t in values if str(t).strip()]
    return list(dict.fromkeys(_fits(Tag, "name", name, field) for name in names))


async def _clean_card(data: Mapping[str, Any], kind: ClientKind) -> dict[str, Any]:
    """Validate card fields; every error is collected before one ValidationFailed."""
    errors: dict[str, str | Text] = {}
    clean: dict[str, Any] = {}
    for key, value in data.items():
        try:
            clean[key] = await _clean_one(key, value, kind)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    return clean


async def _clean_one(key: str, value: Any, kind: ClientKind) -> Any:
    if key == "name":
        text = str(value or "").strip()
        if not text:
            raise ValidationFailed.field("name", N_("Required"))
        return _fits(Client, "name", text)
    if key == "inn":
        return normalize.inn(str(value), kind) if value else None
    if key == "kpp":
        if value and kind != ClientKind.LEGAL:
            raise ValidationFailed.field("kpp", N_("Only a legal entity has a KPP"))
        return normalize.kpp(str(value)) if value else None
    if key == "birthday":
        return _parse_date(value, "birthday")
    if key == "relation_type":
        try:
            return RelationType(value)
        except ValueError:
            raise ValidationFailed.field("relation_type", N_("Unknown choice")) from None
    if key == "kind":
        return _client_kind(value)
    if key == "responsible_id":
        return None if value in (None, "") else await _responsible_id(value)
    if key == "phones":
        return list(dict.fromkeys(normalize.phone(p, field="phones") for p in value if p))
    if key == "emails":
        emails = (normalize.email(e, field="emails") for e in value if e)
        return list(dict.fromkeys(_fits(ClientContact, "value", e, "emails") for e in emails))
    if key == "tags":
        return _tag_names(value, "tags")
    if key == "timezone":
        return value or None
    if key in ("is_lead",):
        return bool(value)
    if key in ("legal_name", "org_form", "region", "lead_source", "note"):
        return _fits(Client, key, str(value or "").strip())
    raise ValidationFailed.field(key, N_("Unknown field"))


async def _set_contacts(client: Client, kind: ContactKind, values: list[str]) -> None:
    await ClientContact.filter(client_id=client.id, kind=kind).delete()
    await ClientContact.bulk_create(
        [ClientContact(client=client, kind=kind, value=v, position=i) for i, v in enumerate(values)]
    )


async def _set_tags(client: Client, names: list[str]) -> None:
    tags = [(await Tag.get_or_create(name=name))[0] for name in names]
    await client.tags.clear()
    if tags:
        await client.tags.add(*tags)


async def snapshot(client: Client) -> dict[str, Any]:
    """The card as history compares it: plain fields plus phones, emails, tags."""
    data = {name: getattr(client, name) for name in CARD_FIELDS}
    contacts = await ClientContact.filter(client_id=client.id).order_by("position")
    data["phones"] = [c.value for c in contacts if c.kind == ContactKind.PHONE]
    data["emails"] = [c.value for c in contacts if c.kind == ContactKind.EMAIL]
    data["tags"] = sorted(await client.tags.all().values_list("name", flat=True))
    return data


async def create_client(
    *,
    actor: User | None,
    kind: ClientKind | str = ClientKind.INDIVIDUAL,
    name: str,
    custom: Mapping[int, Any] | None = None,
    **card: Any,
) -> Client:
    """Create a client. `card` takes CARD_FIELDS and phones/emails/tags; `custom` maps
    field ids to values. A manager creating a client becomes its responsible by default."""
    client_kind = _client_kind(kind)
    clean = await _clean_card({"name": name, **card}, client_kind)
    typed = await fields.validate_values(client_kind, custom or {})
    if "responsible_id" not in clean and actor is not None and not actor.is_admin:
        clean["responsible_id"] = actor.id
    company = await get_company()
    lists = {key: clean.pop(key, []) for key in LIST_FIELDS}
    clean["timezone"] = timezone_for(
        clean.get("region", ""), clean.get("timezone"), company.default_timezone
    )
    async with in_transaction():
        client = await Client.create(
            kind=client_kind, birthday_md=birthday_key(clean.get("birthday")), **clean
        )
        await _set_contacts(client, ContactKind.PHONE, lists["phones"])
        await _set_contacts(client, ContactKind.EMAIL, lists["emails"])
        if lists["tags"]:
            await _set_tags(client, lists["tags"])
        await fields.write_values([client.id], typed)
        await record_changes("client", client.id, {}, {"name": client.name}, actor=actor)
    return client


async def update_client(
    client_id: int,
    changes: Mapping[str, Any],
    *,
    actor: User,
    custom: Mapping[int, Any] | None = None,
) -> Client:
    """Change card fields (and custom fields) of a visible client; history is recorded."""
    client = await access_client(actor, client_id)
    if "responsible_id" in changes and not await sees_all_clients(actor):
        raise PermissionDenied()
    kind = _client_kind(changes.get("kind", client.kind))
    clean = await _clean_card(changes, kind)
    if "inn" not in clean and client.inn and kind != client.kind:
        clean["inn"] = normalize.inn(client.inn, kind)
    typed = await fields.validate_values(kind, custom or {})
    async with in_transaction():
        before = await snapshot(client)
        lists = {key: clean.pop(key) for key in LIST_FIELDS if key in clean}
        if "region" in clean or "timezone" in clean:
            company = await get_company()
            clean["timezone"] = timezone_for(
                clean.get("region", client.region), clean.get("timezone"), company.default_timezone
            )
        if "birthday" in clean:
            clean["birthday_md"] = birthday_key(clean["birthday"])
        client.update_from_dict(clean)
        await client.save()
        if "phones" in lists:
            await _set_contacts(client, ContactKind.PHONE, lists["phones"])
        if "emails" in lists:
            await _set_contacts(client, ContactKind.EMAIL, lists["emails"])
        if "tags" in lists:
            await _set_tags(client, lists["tags"])
        after = await snapshot(client)
        custom_before = await _custom_snapshot(client, typed)
        await fields.write_values([client.id], typed)
        custom_after = await _custom_snapshot(client, typed)
        await record_changes("client", client.id, before, after, actor=actor)
        await record_changes("client", client.id, custom_before, custom_after, actor=actor)
    return client


async def _custom_snapshot(client: Client, typed: list[fields.TypedValue]) -> dict[str, Any]:
    if not typed:
        return {}
    shown = dict(await fields.values_of(client))
    return {d.name: shown.get(d) for d in (t.definition for t in typed)}


@dataclass(frozen=True)
class BulkResult:
    updated: int


async def bulk_update(
    client_ids: Iterable[int],
    changes: Mapping[str, Any],
    *,
    actor: User,
    custom: Mapping[int, Any] | None = None,
) -> BulkResult:
    """Set the same values on a selection of visible clients in one transaction.

    `changes` takes BULK_FIELDS; `custom` sets custom fields. A field that does not apply
    to the kind of some selected client is refused for the whole selection."""
    ids = sorted(set(client_ids))
    if not ids:
        raise ValidationFailed.field("client_ids", N_("Select at least one client"))
    unknown = set(changes) - set(BULK_FIELDS)
    if unknown:
        raise ValidationFailed(fields={k: N_("This cannot be changed") for k in sorted(unknown)})
    card = {k: v for k, v in changes.items() if k not in ("tags_add", "tags_remove")}
    tags_add = _tag_names(changes.get("tags_add", ()), "tags_add")
    tags_remove = await _tags_by_id(changes.get("tags_remove", ()))
    visible = await client_filter(actor)
    async with in_transaction():
        # One read gives visibility, the kinds (for the custom fields) and the old values
        # for the history; locking the rows (in id order, as concurrent bulk edits then
        # queue rather than deadlock) makes those old values the ones overwritten.
        rows = (
            await Client.filter(visible, id__in=ids)
            .order_by("id")
            .select_for_update()
            .values("id", "kind", *_old_columns(card))
        )
        if len(rows) != len(ids):
            raise NotFound()
        if "responsible_id" in changes and not await sees_all_clients(actor):
            raise PermissionDenied()
        kinds = {ClientKind(row["kind"]) for row in rows}
        clean, typed = await _clean_bulk(card, kinds, custom or {})
        history: list[HistoryRow] = [
            (row["id"], *change) for row in rows for change in changed_fields(row, clean)
        ]
        if clean:
            await _set_columns(ids, {**clean, "updated_at": clock.now()})
        if tags_add:
            await _add_tags(ids, tags_add)
        if tags_remove:
            history += await _remove_tags(ids, tags_remove)
        await fields.write_values(ids, typed)
        history += [(cid, t.definition.name, None, _typed_text(t)) for cid in ids for t in typed]
        await insert_rows("client", history, actor=actor)
    return BulkResult(updated=len(ids))


async def _clean_bulk(
    card: dict[str, Any], kinds: set[ClientKind], custom: Mapping[int, Any]
) -> tuple[dict[str, Any], list[fields.TypedValue]]:
    """Validate a bulk edit: the card fields, and the custom values for every kind in the
    selection (a field must apply to each of them)."""
    clean = await _clean_card(card, ClientKind.INDIVIDUAL)
    if "timezone" in clean or "region" in clean:
        company = await get_company()
        clean["timezone"] = timezone_for(
            clean.get("region", ""), clean.get("timezone"), company.default_timezone
        )
    typed: list[fields.TypedValue] = []
    for kind in kinds:
        typed = await fields.validate_values(kind, custom)
    return clean, typed


async def _set_columns(ids: list[int], values: dict[str, Any]) -> None:
    """`Client.filter(id__in=ids).update(**values)` for rows the caller has checked and
    locked. On PostgreSQL the ids go as one array parameter: tortoise renders a list of
    10,000 ids as 10,000 parameters, which costs a third of the statement."""
    conn = connections.get("default")
    if conn.capabilities.dialect != "postgres":
        await Client.filter(id__in=ids).update(**values)
        return
    meta = Client._meta
    names = list(values)
    assignments = ", ".join(
        f'"{meta.fields_db_projection[name]}" = ${i}' for i, name in enumerate(names, 2)
    )
    await conn.execute_query(
        f"UPDATE clients SET {assignments} WHERE id = ANY($1::int[])",
        [ids, *(meta.fields_map[name].to_db_value(values[name], Client) for name in names)],
    )


def _old_columns(card: Mapping[str, Any]) -> list[str]:
    """The columns bulk_update may change for these `card` keys (a region or a timezone
    sets the timezone)."""
    columns = [key for key in BULK_FIELDS if key in card]
    if ("region" in card or "timezone" in card) and "timezone" not in columns:
        columns.append("timezone")
    return columns


async def _add_tags(ids: list[int], names: list[str]) -> None:
    """Tag every client of `ids`; the m2m rows are written in one batch per tag."""
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    sql = "INSERT INTO client_tags (clients_id, tag_id) VALUES " + (
        "($1, $2)" if postgres else "(?, ?)"
    )
    for name in names:
        tag, _ = await Tag.get_or_create(name=name)
        tagged = await Client.filter(id__in=ids, tags__id=tag.id).values_list("id", flat=True)
        have = set(cast(list[int], tagged))
        missing = [(cid, tag.id) for cid in ids if cid not in have]
        if missing:
            await conn.execute_many(sql, missing)


async def _untag(tag_id: int, client_ids: list[int]) -> None:
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    for start in range(0, len(client_ids), 1000):
        part = client_ids[start : start + 1000]
        marks = (
            ", ".join(f"${n}" for n in range(2, len(part) + 2))
            if postgres
            else ", ".join("?" * len(part))
        )
        first = "$1" if postgres else "?"
        await conn.execute_query(
            f"DELETE FROM client_tags WHERE tag_id = {first} AND clients_id IN ({marks})",
            [tag_id, *part],
        )


async def _tags_by_id(values: Iterable[Any]) -> list[Tag]:
    """The tags a bulk edit removes, by id; an id that is not a tag is refused."""
    ids = {normalize.whole_number(str(v)) for v in values}
    if None in ids:
        raise ValidationFailed.field("tags_remove", N_("Unknown tag"))
    tags = await Tag.filter(id__in=list(ids))
    if len(tags) != len(ids):
        raise ValidationFailed.field("tags_remove", N_("Unknown tag"))
    return sorted(tags, key=lambda t: t.id)


async def _remove_tags(ids: list[int], tags: list[Tag]) -> list[HistoryRow]:
    """Untag every client of `ids`; the history notes each tag a client really lost."""
    history: list[HistoryRow] = []
    for tag in tags:
        tagged = await Client.filter(id__in=ids, tags__id=tag.id).values_list("id", flat=True)
        had = sorted(cast(list[int], tagged))
        if had:
            await _untag(tag.id, had)
            history += [(cid, "tags", tag.name, None) for cid in had]
    return history


def _typed_text(value: fields.TypedValue) -> str | None:
    for candidate in (value.string, value.number, value.flag, value.day, value.option_id):
        if candidate is not None:
            return str(candidate)
    return None


# --- key persons --------------------------------------------------------------------------

PERSON_FIELDS = ("name", "role", "phone", "email", "birthday")


async def _clean_person(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str | Text] = {}
    clean: dict[str, Any] = {}
    for key, value in data.items():
        try:
            if key == "name":
                if not str(value or "").strip():
                    raise ValidationFailed.field("name", N_("Required"))
                clean[key] = _fits(ContactPerson, key, str(value).strip())
            elif key == "role":
                clean[key] = _fits(ContactPerson, key, str(value or "").strip())
            elif key == "phone":
                clean[key] = normalize.phone(str(value)) if value else None
            elif key == "email":
                email = normalize.email(str(value)) if value else None
                clean[key] = _fits(ContactPerson, key, email) if email else None
            elif key == "birthday":
                clean[key] = _parse_date(value, "birthday")
                clean["birthday_md"] = birthday_key(clean[key])
            else:
                raise ValidationFailed.field(key, N_("Unknown field"))
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    return clean


async def add_person(client_id: int, *, actor: User, **data: Any) -> ContactPerson:
    client = await access_client(actor, client_id)
    clean = await _clean_person({"name": data.pop("name", ""), **data})
    async with in_transaction():
        person = await ContactPerson.create(client=client, **clean)
        await record_changes("person", person.id, {}, {"name": person.name}, actor=actor)
    return person


async def update_person(
    person_id: int, changes: Mapping[str, Any], *, actor: User
) -> ContactPerson:
    person = await ContactPerson.filter(id=person_id).first()
    if person is None:
        raise NotFound()
    await access_client(actor, person.client_id)  # type: ignore[attr-defined]
    clean = await _clean_person(changes)
    async with in_transaction():
        before = {k: getattr(person, k) for k in PERSON_FIELDS}
        person.update_from_dict(clean)
        await person.save()
        after = {k: getattr(person, k) for k in PERSON_FIELDS}
        await record_changes("person", person.id, before, after, actor=actor)
    return person


# --- reading ------------------------------------------------------------------------------


def client_local_time(client: Client, now: datetime | None = None) -> datetime:
    """The client's current local time (business region's timezone)."""
    return local_time(client.timezone or "Europe/Moscow", now or clock.now())
