"""Managers' monthly plans: an amount won and/or a number of wins per manager and month.

Admins and heads of sales set them (a plan is sales management, not a setting of the
install); a manager reads their own through the reports. A period other than whole
months gets each month's plan in proportion to the days it covers (a week of a 31-day
month: 7/31 of it), so "this week" and "this quarter" have a plan too."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.transactions import in_transaction

from crm.errors import PermissionDenied, ValidationFailed
from crm.i18n import N_
from crm.models import ManagerPlan, User

MAX_AMOUNT = Decimal("99999999999999")
MAX_WINS = 100_000


def month_of(day: date) -> date:
    return day.replace(day=1)


def _amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise ValidationFailed.field("amount", N_("A number expected")) from None
    if not amount.is_finite() or not 0 <= amount <= MAX_AMOUNT:
        raise ValidationFailed.field("amount", N_("A number expected"))
    return amount.quantize(Decimal("0.01"))


def _wins(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        wins = int(str(value))
    except ValueError:
        raise ValidationFailed.field("wins", N_("A positive whole number expected")) from None
    if not 0 <= wins <= MAX_WINS:
        raise ValidationFailed.field("wins", N_("A positive whole number expected"))
    return wins


async def set_plan(
    user_id: int, month: date, *, amount: Any = None, wins: Any = None, actor: User | None
) -> ManagerPlan | None:
    """Set the manager's plan for the month of `month`; with neither figure it is removed."""
    if actor is not None and not actor.sees_everything:
        raise PermissionDenied()
    clean_amount, clean_wins = _amount(amount), _wins(wins)
    if not await User.filter(id=user_id).exists():
        raise ValidationFailed.field("user_id", N_("Unknown user"))
    first = month_of(month)
    if clean_amount is None and clean_wins is None:
        await ManagerPlan.filter(user_id=user_id, month=first).delete()
        return None
    plan, _ = await ManagerPlan.update_or_create(
        {"amount": clean_amount, "wins": clean_wins}, user_id=user_id, month=first
    )
    return plan


async def set_plans(
    month: date, figures: dict[int, tuple[Any, Any]], *, actor: User | None
) -> None:
    """Set several managers' plans for one month at once ({user id: (amount, wins)}):
    every value is checked first (a refusal names `amount-<id>` / `wins-<id>`), then all
    are written in one transaction."""
    if actor is not None and not actor.sees_everything:
        raise PermissionDenied()
    errors: dict[str, Any] = {}
    clean: dict[int, tuple[Decimal | None, int | None]] = {}
    for user_id, (amount, wins) in figures.items():
        pair: list[Any] = []
        for name, check, value in (("amount", _amount, amount), ("wins", _wins, wins)):
            try:
                pair.append(check(value))
            except ValidationFailed as refused:
                errors[f"{name}-{user_id}"] = refused.fields[name]
        if len(pair) == 2:
            clean[user_id] = (pair[0], pair[1])
    known = set(await User.filter(id__in=list(figures)).values_list("id", flat=True))
    for user_id in set(figures) - known:
        errors[f"amount-{user_id}"] = N_("Unknown user")
    if errors:
        raise ValidationFailed(fields=errors)
    async with in_transaction():
        for user_id, (amount, wins) in clean.items():
            await set_plan(user_id, month, amount=amount, wins=wins, actor=actor)


async def plans_of_month(month: date) -> dict[int, ManagerPlan]:
    """The plans of the month of `month`, by manager id."""
    return {
        p.user_id: p  # type: ignore[attr-defined]
        for p in await ManagerPlan.filter(month=month_of(month))
    }


async def plans_for_period(
    user_ids: list[int], first: date, last: date
) -> dict[int, tuple[Decimal | None, Decimal | None]]:
    """Each manager's plan for the days `first`..`last` (amount, wins; each None when no
    month in the period plans it), for those with a plan in the period: one read."""
    found = await ManagerPlan.filter(
        user_id__in=user_ids, month__gte=month_of(first), month__lte=last
    )
    sums: dict[int, list[Decimal | None]] = {}
    for plan in found:
        days = calendar.monthrange(plan.month.year, plan.month.month)[1]
        end = plan.month + timedelta(days=days - 1)
        covered = (min(end, last) - max(plan.month, first)).days + 1
        part = Decimal(covered) / Decimal(days)
        amount, wins = sums.setdefault(plan.user_id, [None, None])  # type: ignore[attr-defined]
        if plan.amount is not None:
            amount = (amount or Decimal(0)) + plan.amount * part
        if plan.wins is not None:
            wins = (wins or Decimal(0)) + Decimal(plan.wins) * part
        sums[plan.user_id] = [amount, wins]  # type: ignore[attr-defined]
    quantum = Decimal("0.01")
    return {
        user_id: (
            None if amount is None else amount.quantize(quantum),
            None if wins is None else wins.quantize(quantum),
        )
        for user_id, (amount, wins) in sums.items()
    }
