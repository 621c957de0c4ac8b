"""Merging two clients into one, and undoing it.

The promise: a merge loses nothing. The survivor keeps its id and takes from the merged
client everything it lacks: its interests, interactions, identities, conversations,
inquiries, key persons, invoices and payments, the phones and emails it does not have,
the custom field values it has none of, the tags (a union), and every card value it has
empty (INN, KPP, birthday, region with its time zone, legal name, legal form, responsible,
lead source, note). Where both have a value and they differ, the survivor's stays unless the caller
names the field in `take` (the merge screen's per-field choice, as 1C offers it); the
choices are `differences` of `plan_merge`. The merged client is hidden
(`merged_into`), its own card untouched.

The merge record (`MergeRecord.moved`) holds the ids of every row moved, the tags added,
the custom values swapped, each card value changed (before and after) and the fields
taken by choice. `undo_merge` puts exactly those back: the survivor's card values return
where nobody changed them since, the tags it gained go, the swapped custom values swap
back, the rows return to the merged client. Undo is refused (`merge_in_use`) once the moved
interests or conversations got new interactions, messages, invoices or payments."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from tortoise.transactions import in_transaction

from crm import clock, fields, last_contact, normalize
from crm.access import access_client, may_merge_clients
from crm.errors import Conflict, CrmError, NotFound, PermissionDenied, ValidationFailed
from crm.history import record_changes
from crm.i18n import N_
from crm.models import (
    ChannelIdentity,
    Client,
    ClientContact,
    ClientKind,
    ContactKind,
    ContactPerson,
    Conversation,
    FieldValue,
    Inquiry,
    Interaction,
    Interest,
    Invoice,
    MergeRecord,
    Message,
    Payment,
    RelationType,
    Tag,
    User,
)

# The rows that move from the merged client to the survivor, by the name the record uses.
MOVABLE = {
    "interests": Interest,
    "interactions": Interaction,
    "identities": ChannelIdentity,
    "conversations": Conversation,
    "inquiries": Inquiry,
    "persons": ContactPerson,
    "contacts": ClientContact,
    # money facts follow their interests: an invoice's client is its interest's client
    "invoices": Invoice,
    "payments": Payment,
}

# The card values a merge carries or lets the caller choose, with their labels.
CARD_LABELS = {
    "name": N_("Name"),
    "legal_name": N_("Full legal name"),
    "inn": N_("INN"),
    "kpp": N_("KPP"),
    "org_form": N_("Legal form"),
    "birthday": N_("Birthday"),
    "region": N_("Business region"),
    "relation_type": N_("Relation"),
    "responsible_id": N_("Responsible"),
    "is_lead": N_("Lead"),
    "lead_source": N_("Lead source"),
    "note": N_("Note"),
}
CUSTOM = "custom_"  # a custom field's key: CUSTOM + its definition id
VALUE_COLUMNS = ("value_string", "value_number", "value_flag", "value_date", "value_option_id")


@dataclass(frozen=True)
class FieldDifference:
    """One value of the card: `key` (a card field, or CUSTOM + a field id), its label (a
    message id for card fields, the field's own name for custom ones) and both sides."""

    key: str
    label: str
    survivor: Any
    merged: Any

    @property
    def custom(self) -> bool:
        return self.key.startswith(CUSTOM)


@dataclass(frozen=True)
class MergePlan:
    """What merging `merged` into `survivor` will do to the card."""

    survivor: Client
    merged: Client
    differences: list[FieldDifference] = field(default_factory=list)  # both set: choose
    carried: list[FieldDifference] = field(default_factory=list)  # survivor lacks: taken
    tags: list[str] = field(default_factory=list)  # the tags the survivor gains


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _fits_kind(key: str, value: Any, kind: ClientKind) -> bool:
    """Whether the merged client's `value` is valid on a survivor of `kind`."""
    try:
        if key == "inn":
            normalize.inn(str(value), kind)
        elif key == "kpp":
            return kind == ClientKind.LEGAL
    except CrmError:
        return False
    return True


async def _clients(survivor_id: int, merged_id: int, actor: User | None) -> tuple[Client, Client]:
    if survivor_id == merged_id:
        raise ValidationFailed.field("merged_id", N_("Choose two different clients"))
    if actor is not None:
        return await access_client(actor, survivor_id), await access_client(actor, merged_id)
    found = {
        c.id: c
        for c in await Client.filter(id__in=[survivor_id, merged_id], merged_into_id__isnull=True)
    }
    if len(found) != 2:
        raise NotFound()
    return found[survivor_id], found[merged_id]


async def _custom_rows(client_id: int) -> dict[int, FieldValue]:
    return {
        v.definition_id: v  # type: ignore[attr-defined]
        for v in await FieldValue.filter(client_id=client_id)
    }


async def plan_merge(survivor_id: int, merged_id: int, *, actor: User | None) -> MergePlan:
    """The differences to choose from, the values carried and the tags gained."""
    survivor, merged = await _clients(survivor_id, merged_id, actor)
    plan = MergePlan(survivor, merged)
    for key, label in CARD_LABELS.items():
        mine, theirs = getattr(survivor, key), getattr(merged, key)
        if _empty(theirs) or mine == theirs or not _fits_kind(key, theirs, survivor.kind):
            continue
        if key == "is_lead" or not _empty(mine):
            plan.differences.append(FieldDifference(key, label, mine, theirs))
        else:
            plan.carried.append(FieldDifference(key, label, mine, theirs))
    shown_mine = {d.id: v for d, v in await fields.values_of(survivor)}
    shown_theirs = {d.id: (d, v) for d, v in await fields.values_of(merged)}
    for definition_id in await _custom_rows(merged.id):
        definition, theirs = shown_theirs.get(definition_id, (None, None))
        if definition is None:  # a field of the merged client's kind only: it moves unseen
            continue
        mine = shown_mine.get(definition_id)
        difference = FieldDifference(f"{CUSTOM}{definition_id}", definition.name, mine, theirs)
        if mine is None:
            plan.carried.append(difference)
        elif mine != theirs:
            plan.differences.append(difference)
    have = set(await survivor.tags.all().values_list("name", flat=True))
    theirs_tags = await merged.tags.all().values_list("name", flat=True)
    plan.tags.extend(sorted(str(n) for n in theirs_tags if n not in have))
    return plan


def _choosable(key: str) -> bool:
    """A card field or a custom field's key (one no longer different is ignored)."""
    return key in CARD_LABELS or (key.startswith(CUSTOM) and key[len(CUSTOM) :].isdigit())


def _plain(value: Any) -> Any:
    """A card value as the record's JSON holds it."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, RelationType):
        return value.value
    return value


def _typed(key: str, value: Any) -> Any:
    """A card value back from the record's JSON."""
    if value is None:
        return None
    if key == "birthday":
        return date.fromisoformat(value)
    if key == "relation_type":
        return RelationType(value)
    return value


async def merge_clients(
    survivor_id: int,
    merged_id: int,
    *,
    actor: User | None,
    take: Collection[str] = (),
) -> MergeRecord:
    """Merge `merged` into `survivor` (see the module's promise); `take` names the
    differences whose merged value wins. `actor=None` is the system (the inbox joining one
    person's identities), which keeps the survivor's values."""
    plan = await plan_merge(survivor_id, merged_id, actor=actor)
    survivor, merged = plan.survivor, plan.merged
    if any(not _choosable(key) for key in take):
        raise ValidationFailed.field("take", N_("Unknown field"))
    chosen = [d for d in plan.differences if d.key in take]
    async with in_transaction():
        moved: dict[str, Any] = await _move_rows(survivor, merged)
        card = await _merge_card(survivor, merged, plan, chosen)
        moved["card"] = card
        moved["field_values"], moved["field_values_swapped"] = await _merge_custom(
            survivor, merged, {d.key for d in chosen if d.custom}
        )
        moved["tags"] = await _add_tags(survivor, plan.tags)
        moved["taken"] = sorted(d.key for d in chosen)
        moved["carried"] = sorted(d.key for d in plan.carried)
        merged.merged_into = survivor
        await merged.save(update_fields=["merged_into_id", "updated_at"])
        await last_contact.recompute([survivor.id, merged.id])  # the interactions moved
        record = await MergeRecord.create(
            survivor=survivor, merged=merged, moved=moved, actor=actor
        )
        before = {k: v[0] for k, v in card.items()}
        after = {k: v[1] for k, v in card.items()}
        if plan.tags:
            before["tags"], after["tags"] = [], plan.tags
        await record_changes(
            "client",
            survivor.id,
            before,
            {**after, "merged": f"#{merged.id} {merged.name}"},
            actor=actor,
        )
    return record


async def _move_rows(survivor: Client, merged: Client) -> dict[str, Any]:
    moved: dict[str, Any] = {}
    for name, model in MOVABLE.items():
        if name == "contacts":
            ids, moved["contact_positions"] = await _move_contacts(survivor, merged)
            moved[name] = ids
            continue
        ids = cast(list[int], await model.filter(client_id=merged.id).values_list("id", flat=True))
        moved[name] = ids
        if ids:
            await model.filter(id__in=ids).update(client_id=survivor.id)
    return moved


async def _move_contacts(survivor: Client, merged: Client) -> tuple[list[int], list[list[int]]]:
    """The phones and emails the survivor lacks, placed after its own; returns their ids
    and their old positions ([id, position] pairs)."""
    mine = await ClientContact.filter(client_id=survivor.id)
    have = {(c.kind, c.value) for c in mine}
    count = {kind: sum(1 for c in mine if c.kind == kind) for kind in ContactKind}
    ids, positions = [], []
    for row in await ClientContact.filter(client_id=merged.id).order_by("position", "id"):
        if (row.kind, row.value) in have:
            continue
        ids.append(row.id)
        positions.append([row.id, row.position])
        await ClientContact.filter(id=row.id).update(
            client_id=survivor.id, position=count[row.kind]
        )
        count[row.kind] += 1
    return ids, positions


async def _merge_card(
    survivor: Client, merged: Client, plan: MergePlan, chosen: list[FieldDifference]
) -> dict[str, list[Any]]:
    """Set the carried and chosen card values; returns {field: [before, after]}."""
    keys = [d.key for d in (*plan.carried, *chosen) if not d.custom]
    if "region" in keys:
        keys.append("timezone")  # the region's time zone comes with it
    card = {k: [_plain(getattr(survivor, k)), _plain(getattr(merged, k))] for k in keys}
    if not card:
        return {}
    values = {k: getattr(merged, k) for k in keys}
    if "birthday" in values:
        values["birthday_md"] = merged.birthday_md
    await Client.filter(id=survivor.id).update(**values, updated_at=clock.now())
    return card


async def _merge_custom(
    survivor: Client, merged: Client, chosen: set[str]
) -> tuple[list[int], list[list[int]]]:
    """Move the custom values the survivor lacks, swap those chosen from the merged client
    (the survivor's old value waits on the hidden merged client for an undo)."""
    mine, theirs = await _custom_rows(survivor.id), await _custom_rows(merged.id)
    moved = [v.id for d, v in theirs.items() if d not in mine]
    if moved:
        await FieldValue.filter(id__in=moved).update(client_id=survivor.id)
    swapped = [
        [mine[d].id, theirs[d].id] for d in sorted(theirs) if d in mine and f"{CUSTOM}{d}" in chosen
    ]
    for survivor_row, merged_row in swapped:
        await _swap_values(survivor_row, merged_row)
    return moved, swapped


async def _swap_values(first_id: int, second_id: int) -> None:
    first = await FieldValue.filter(id=first_id).values(*VALUE_COLUMNS)
    second = await FieldValue.filter(id=second_id).values(*VALUE_COLUMNS)
    if first and second:
        await FieldValue.filter(id=first_id).update(**second[0])
        await FieldValue.filter(id=second_id).update(**first[0])


async def _add_tags(survivor: Client, names: list[str]) -> list[int]:
    tags = await Tag.filter(name__in=names) if names else []
    if tags:
        await survivor.tags.add(*tags)
    return [t.id for t in tags]


async def undo_merge(record_id: int, *, actor: User) -> Client:
    """Put back what the merge moved and changed (see the module's promise); returns the
    merged client, visible again."""
    record = await MergeRecord.filter(id=record_id).first()
    if record is None:
        raise NotFound()
    if record.undone_at is not None:
        raise Conflict(N_("This merge has already been undone"))
    survivor = await access_client(actor, record.survivor_id)  # type: ignore[attr-defined]
    if not may_merge_clients(actor) and survivor.responsible_id != actor.id:  # type: ignore[attr-defined]
        raise PermissionDenied()
    moved = record.moved
    new_interactions = await Interaction.filter(
        interest_id__in=moved.get("interests", []) or [0], created_at__gt=record.created_at
    ).exists()
    new_messages = await Message.filter(
        conversation_id__in=moved.get("conversations", []) or [0],
        created_at__gt=record.created_at,
    ).exists()
    new_money = (
        await Invoice.filter(
            interest_id__in=moved.get("interests", []) or [0], created_at__gt=record.created_at
        ).exists()
        or await Payment.filter(
            invoice__interest_id__in=moved.get("interests", []) or [0],
            created_at__gt=record.created_at,
        ).exists()
    )
    if new_interactions or new_messages or new_money:
        raise Conflict(
            N_("New data depends on this merge; it can no longer be undone"), code="merge_in_use"
        )
    merged_id: int = record.merged_id  # type: ignore[attr-defined]
    async with in_transaction():
        for name, model in [*MOVABLE.items(), ("field_values", FieldValue)]:
            ids = moved.get(name, [])
            if ids:
                await model.filter(id__in=ids).update(client_id=merged_id)
        for contact_id, position in moved.get("contact_positions", []):
            await ClientContact.filter(id=contact_id).update(position=position)
        for survivor_row, merged_row in moved.get("field_values_swapped", []):
            await _swap_values(survivor_row, merged_row)
        restored = await _restore_card(survivor, moved.get("card", {}))
        tag_ids = moved.get("tags", [])
        if tag_ids:
            await survivor.tags.remove(*await Tag.filter(id__in=tag_ids))
        await Client.filter(id=merged_id).update(merged_into_id=None, updated_at=clock.now())
        await last_contact.recompute([survivor.id, merged_id])  # the interactions moved back
        record.undone_at = clock.now()
        await record.save()
        before = {k: v[1] for k, v in restored.items()}
        after = {k: v[0] for k, v in restored.items()}
        await record_changes(
            "client",
            survivor.id,
            {**before, "merged": f"#{merged_id}"},
            {**after, "merged": None},
            actor=actor,
        )
    return await Client.get(id=merged_id)


async def _restore_card(survivor: Client, card: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The survivor's card values from before the merge, where they still hold what the
    merge set (a later edit stays)."""
    fresh = await Client.get(id=survivor.id)
    restored = {k: v for k, v in card.items() if _plain(getattr(fresh, k)) == v[1] and v[0] != v[1]}
    if restored:
        values = {k: _typed(k, v[0]) for k, v in restored.items()}
        if "birthday" in values:
            day = values["birthday"]
            values["birthday_md"] = day.month * 100 + day.day if day else None
        await Client.filter(id=survivor.id).update(**values, updated_at=clock.now())
    return restored
