"""Sales scenarios, their ordered stages and stage robots; loss and rejection reasons.

A scenario's stages are read for every deal card, and change rarely, so `stages_of` keeps
them for STAGES_TTL seconds (`crm.kept`): a change made in this process (any save or delete
of a Stage or Scenario, and the writes here) applies at once, one made in another process
(the admin panel beside a bot worker) within STAGES_TTL. The lists are kept per database
client, so a database initialised again starts afresh; the writes here read the stages
uncached."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tortoise.transactions import in_transaction

from crm import stage_moves
from crm.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm.i18n import N_, gettext
from crm.kept import Kept
from crm.models import (
    Interest,
    Reason,
    ReasonKind,
    Scenario,
    Stage,
    StageAction,
    StageActionKind,
    StageChange,
    User,
)

STAGES_TTL = 2.0  # seconds another process's change of a scenario's stages may take to apply


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.is_admin:
        raise PermissionDenied()


def _name(value: str, field: str = "name") -> str:
    text = value.strip()
    if not text:
        raise ValidationFailed.field(field, N_("Required"))
    return text[:200]


async def create_scenario(
    name: str,
    stages: list[str],
    *,
    require_next_step: bool = True,
    allow_past_planning: bool = True,
    is_default: bool = False,
    actor: User | None,
) -> Scenario:
    """A scenario with its first stages in order."""
    _require_admin(actor)
    name = _name(name)
    names = [s.strip() for s in stages if s.strip()]
    if not names:
        raise ValidationFailed.field("stages", N_("A scenario needs at least one stage"))
    if await Scenario.filter(name=name).exists():
        raise ValidationFailed.field("name", N_("This name is already taken"))
    async with in_transaction():
        if is_default:
            await Scenario.filter(is_default=True).update(is_default=False)
        scenario = await Scenario.create(
            name=name,
            require_next_step=require_next_step,
            allow_past_planning=allow_past_planning,
            is_default=is_default,
        )
        await Stage.bulk_create(
            [Stage(scenario=scenario, name=n, position=i) for i, n in enumerate(names)]
        )
    _stage_lists.forget()  # bulk_create sends no signals
    return scenario


async def update_scenario(
    scenario_id: int, changes: Mapping[str, Any], *, actor: User | None
) -> Scenario:
    _require_admin(actor)
    scenario = await get_scenario(scenario_id)
    allowed = {"name", "require_next_step", "allow_past_planning", "is_default", "is_active"}
    if set(changes) - allowed:
        raise ValidationFailed(
            fields={k: N_("This cannot be changed") for k in sorted(set(changes) - allowed)}
        )
    data = dict(changes)
    if "name" in data:
        data["name"] = _name(str(data["name"]))
        if await Scenario.filter(name=data["name"]).exclude(id=scenario_id).exists():
            raise ValidationFailed.field("name", N_("This name is already taken"))
    async with in_transaction():
        if data.get("is_default"):
            await Scenario.filter(is_default=True).update(is_default=False)
        scenario.update_from_dict(data)
        await scenario.save()
    return scenario


async def get_scenario(scenario_id: int) -> Scenario:
    scenario = await Scenario.filter(id=scenario_id).first()
    if scenario is None:
        raise NotFound()
    return scenario


async def default_scenario() -> Scenario | None:
    return (
        await Scenario.filter(is_default=True, is_active=True).first()
        or await Scenario.filter(is_active=True).order_by("id").first()
    )


async def stages_of(scenario_id: int) -> list[Stage]:
    """The scenario's stages in order, re-read at most every STAGES_TTL seconds (shared
    instances: read them, do not change them)."""
    return list(await _stage_lists.get(scenario_id))


async def _read_stages(scenario_id: int) -> list[Stage]:
    return await Stage.filter(scenario_id=scenario_id).order_by("position", "id")


_stage_lists = Kept(_read_stages, ttl=STAGES_TTL, model=Stage, changed_by=(Stage, Scenario))


async def add_stage(
    scenario_id: int, name: str, *, position: int | None = None, actor: User | None
) -> Stage:
    """Add a stage at `position` (0-based; the end when None)."""
    _require_admin(actor)
    await get_scenario(scenario_id)
    name = _name(name)
    async with in_transaction():
        stages = await _read_stages(scenario_id)
        index = len(stages) if position is None else max(0, min(position, len(stages)))
        stage = await Stage.create(scenario_id=scenario_id, name=name, position=index)
        stages.insert(index, stage)
        await _renumber(stages)
    _stage_lists.forget()  # again once committed: a read meanwhile saw the old stages
    return stage


async def rename_stage(stage_id: int, name: str, *, actor: User | None) -> Stage:
    _require_admin(actor)
    stage = await Stage.filter(id=stage_id).first()
    if stage is None:
        raise NotFound()
    stage.name = _name(name)
    await stage.save()
    return stage


async def reorder_stages(scenario_id: int, stage_ids: list[int], *, actor: User | None) -> None:
    """Put the scenario's stages in the order of `stage_ids` (all of them, each once)."""
    _require_admin(actor)
    stages = {s.id: s for s in await _read_stages(scenario_id)}
    if sorted(stage_ids) != sorted(stages):
        raise ValidationFailed.field("stage_ids", N_("Name every stage of the scenario once"))
    reordered = stage_ids != list(stages)  # _read_stages gives them in their order
    async with in_transaction():
        await _renumber([stages[i] for i in stage_ids])
        if reordered:  # the funnel's kept "moved on to a later stage" compares positions
            await stage_moves.resettle_scenario(scenario_id)
    _stage_lists.forget()


async def _renumber(stages: list[Stage]) -> None:
    for position, stage in enumerate(stages):
        if stage.position != position:
            stage.position = position
            await stage.save(update_fields=["position", "updated_at"])


async def delete_stage(stage_id: int, *, actor: User | None) -> None:
    """Delete a stage that no interest is at or has passed through."""
    _require_admin(actor)
    stage = await Stage.filter(id=stage_id).first()
    if stage is None:
        raise NotFound()
    in_use = (
        await Interest.filter(stage_id=stage_id).exists()
        or await StageChange.filter(to_stage_id=stage_id).exists()
        or await StageChange.filter(from_stage_id=stage_id).exists()
    )
    if in_use:
        raise Conflict(
            N_("The stage \u201c{name}\u201d is in use by interests and cannot be deleted"),
            code="stage_in_use",
            name=stage.name,
        )
    scenario_id: int = stage.scenario_id  # type: ignore[attr-defined]
    if await Stage.filter(scenario_id=scenario_id).count() <= 1:
        raise Conflict(N_("A scenario needs at least one stage"))
    async with in_transaction():
        await stage.delete()
        await _renumber(await _read_stages(scenario_id))
    _stage_lists.forget()


async def add_stage_action(
    stage_id: int,
    kind: StageActionKind | str,
    params: Mapping[str, Any],
    *,
    actor: User | None,
) -> StageAction:
    """A robot of the stage: send a template message to the client, or create a task."""
    _require_admin(actor)
    if not await Stage.filter(id=stage_id).exists():
        raise NotFound()
    try:
        action_kind = StageActionKind(kind)
    except ValueError:
        raise ValidationFailed.field("kind", N_("Unknown choice")) from None
    clean: dict[str, Any] = {}
    if action_kind == StageActionKind.SEND_MESSAGE:
        template = str(params.get("template", "")).strip()
        if not template:
            raise ValidationFailed.field("template", N_("Required"))
        clean["template"] = template
    else:
        subject = str(params.get("subject", "")).strip()
        if not subject:
            raise ValidationFailed.field("subject", N_("Required"))
        try:
            hours = int(params.get("due_in_hours", 24))
        except (TypeError, ValueError):
            raise ValidationFailed.field("due_in_hours", N_("Not a number")) from None
        if not 0 <= hours <= 24 * 365:
            raise ValidationFailed.field("due_in_hours", N_("Not a number"))
        clean.update(subject=subject, due_in_hours=hours)
    count = await StageAction.filter(stage_id=stage_id).count()
    return await StageAction.create(
        stage_id=stage_id, kind=action_kind, params=clean, position=count
    )


async def delete_stage_action(action_id: int, *, actor: User | None) -> None:
    _require_admin(actor)
    deleted = await StageAction.filter(id=action_id).delete()
    if not deleted:
        raise NotFound()


# --- reason lists -------------------------------------------------------------------------


async def add_reason(kind: ReasonKind | str, text: str, *, actor: User | None) -> Reason:
    _require_admin(actor)
    reason_kind = ReasonKind(kind)
    text = _name(text, "text")
    existing = await Reason.filter(kind=reason_kind, text=text).first()
    if existing is not None:
        if existing.is_active:
            raise ValidationFailed.field("text", N_("This value already exists"))
        existing.is_active = True
        await existing.save()
        return existing
    count = await Reason.filter(kind=reason_kind).count()
    return await Reason.create(kind=reason_kind, text=text, position=count)


# A fresh install gets these (named in the company's language); admins edit the list.
DEFAULT_REJECTION_REASONS = (
    N_("Spam"),
    N_("Not our customer"),
    N_("Duplicate"),
    N_("Wrong channel"),
)


async def add_default_rejection_reasons(locale: str) -> int:
    """The default inquiry-rejection reasons in `locale`, when the list has never had any
    (a retired one counts: an admin who emptied the list keeps it empty). How many were
    added."""
    if await Reason.filter(kind=ReasonKind.REJECTION).exists():
        return 0
    await Reason.bulk_create(
        [
            Reason(kind=ReasonKind.REJECTION, text=gettext(text, locale), position=n)
            for n, text in enumerate(DEFAULT_REJECTION_REASONS)
        ]
    )
    return len(DEFAULT_REJECTION_REASONS)


async def reasons(kind: ReasonKind | str) -> list[Reason]:
    return await Reason.filter(kind=ReasonKind(kind), is_active=True).order_by("position", "id")


async def retire_reason(reason_id: int, *, actor: User | None) -> None:
    """Hide a reason from the list; interests that used it keep it."""
    _require_admin(actor)
    if not await Reason.filter(id=reason_id).update(is_active=False):
        raise NotFound()
