"""The reference rows the demo's bulk points at (managers, scenarios, loss reasons, tags,
custom fields): found, or created through the services on the first run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from crm import channels, clock, fields, plans, scenarios, users
from crm.company import get_company
from crm.demo.identifiers import mobile_phone
from crm.demo.words import (
    DEMO_CHANNELS,
    LOSS_REASONS,
    MANAGER_NAMES,
    MANAGER_TIMEZONES,
    SCENARIOS,
    TAGS,
)
from crm.models import (
    BelongsTo,
    Channel,
    FieldDefinition,
    FieldOption,
    FieldSection,
    FieldType,
    ManagerPlan,
    Reason,
    ReasonKind,
    Role,
    Scenario,
    Stage,
    Tag,
    User,
)


@dataclass
class ScenarioInfo:
    id: int
    stages: list[int]


@dataclass
class Setup:
    """The reference rows the bulk points at (found, or created on the first run)."""

    managers: list[int]
    scenarios: list[ScenarioInfo]
    loss_reasons: list[int]
    tags: list[int]
    loyalty_id: int
    loyalty_options: list[int]
    turnover_id: int
    channels: list[int] = field(default_factory=list)
    rejection_reasons: list[int] = field(default_factory=list)
    created_users: int = 0


async def _prepare_users() -> tuple[list[int], int]:
    created = 0
    if not await User.filter(email="admin@demo.local").exists():
        await users.create_user(
            email="admin@demo.local", full_name="Администратор", role=Role.ADMIN, actor=None
        )
        created += 1
    ids = []
    for i, name in enumerate(MANAGER_NAMES, start=1):
        email = f"manager{i:02d}@demo.local"
        user = await User.filter(email=email).first()
        if user is None:
            user = await users.create_user(
                email=email,
                full_name=name,
                phone=mobile_phone(i, salt=77),
                timezone=MANAGER_TIMEZONES[i - 1],
                actor=None,
            )
            created += 1
        ids.append(user.id)
    return ids, created


async def _find_scenarios() -> list[ScenarioInfo]:
    found = []
    for scenario in await Scenario.filter(is_active=True).order_by("-is_default", "id"):
        stages = await Stage.filter(scenario_id=scenario.id).order_by("position", "id")
        if stages:
            found.append(ScenarioInfo(scenario.id, [s.id for s in stages]))
    return found


async def _prepare_scenarios() -> list[ScenarioInfo]:
    """The active scenarios with stages; the demo ones are created when there are none."""
    found = await _find_scenarios()
    if not found:
        for name, is_default, stage_names in SCENARIOS:
            if not await Scenario.filter(name=name).exists():
                await scenarios.create_scenario(
                    name, list(stage_names), is_default=is_default, actor=None
                )
        found = await _find_scenarios()
    if not found:
        raise RuntimeError("demo data needs an active scenario with stages")
    return found


async def _prepare_fields() -> tuple[int, list[int], int]:
    loyalty = await FieldDefinition.filter(name="Лояльность", belongs_to=BelongsTo.ALL).first()
    turnover = await FieldDefinition.filter(
        name="Годовой оборот, млн ₽", belongs_to=BelongsTo.LEGAL
    ).first()
    if loyalty is None or turnover is None:
        section = await FieldSection.filter(name="Маркетинг").first()
        if section is None:
            section = await fields.create_section("Маркетинг", actor=None)
        if loyalty is None:
            loyalty = await fields.create_field(
                name="Лояльность",
                type=FieldType.LIST,
                options=("Высокая", "Средняя", "Низкая"),
                section_id=section.id,
                actor=None,
            )
        if turnover is None:
            turnover = await fields.create_field(
                name="Годовой оборот, млн ₽",
                type=FieldType.NUMBER,
                belongs_to=BelongsTo.LEGAL,
                section_id=section.id,
                actor=None,
            )
    options = await FieldOption.filter(definition_id=loyalty.id).order_by("position", "id")
    return loyalty.id, [o.id for o in options], turnover.id


async def _prepare_channels() -> list[int]:
    """The demo's channels, connected but switched off (their credentials are made up: a
    `crmhub run` on the demo database must not poll them)."""
    for kind, name, credentials in DEMO_CHANNELS:
        if not await Channel.filter(name=name).exists():
            made = await channels.create_channel(
                kind=kind, name=name, credentials=credentials, actor=None
            )
            await channels.set_active(made.id, False, actor=None)
    names = [name for _, name, _ in DEMO_CHANNELS]
    return [c.id for c in await Channel.filter(name__in=names).order_by("id")]


async def _prepare_plans(managers: list[int]) -> None:
    """Monthly plans for the last two years and this month, where none are set."""
    if not managers or await ManagerPlan.exists():
        return
    today = clock.now().date()
    for back in range(24, -1, -1):
        index = today.year * 12 + today.month - 1 - back
        month = date(index // 12, index % 12 + 1, 1)
        figures = {
            m: (Decimal(1_500_000 + 250_000 * (n % 5)), 6 + n % 4) for n, m in enumerate(managers)
        }
        await plans.set_plans(month, figures, actor=None)


async def prepare() -> Setup:
    managers, created = await _prepare_users()
    for text in LOSS_REASONS:
        if not await Reason.filter(kind=ReasonKind.LOSS, text=text).exists():
            await scenarios.add_reason(ReasonKind.LOSS, text, actor=None)
    reasons = await Reason.filter(kind=ReasonKind.LOSS, is_active=True).order_by("position", "id")
    await scenarios.add_default_rejection_reasons((await get_company()).default_locale)
    rejections = await Reason.filter(kind=ReasonKind.REJECTION, is_active=True).order_by(
        "position", "id"
    )
    await _prepare_plans(managers)
    tags = [(await Tag.get_or_create(name=name))[0].id for name in TAGS]
    loyalty_id, loyalty_options, turnover_id = await _prepare_fields()
    return Setup(
        managers=managers,
        scenarios=await _prepare_scenarios(),
        loss_reasons=[r.id for r in reasons],
        tags=tags,
        loyalty_id=loyalty_id,
        loyalty_options=loyalty_options,
        turnover_id=turnover_id,
        channels=await _prepare_channels(),
        rejection_reasons=[r.id for r in rejections],
        created_users=created,
    )
