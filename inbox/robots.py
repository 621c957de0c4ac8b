"""Stage robots: when an interest enters a stage, that stage's actions run exactly once.

Every stage move leaves a `StageChange` row with `robots_done = False`. The runner claims
such rows under a lease (one runner per row across processes), and in one transaction queues
the template messages (the outbox sends them), creates the tasks and marks the row done:
either all of it happens once or none of it does and the next pass retries."""

from __future__ import annotations

import logging
from datetime import timedelta

from tortoise.transactions import in_transaction

from crm import clock, templates
from crm.claims import claim
from crm.conversations import queue_reply
from crm.interactions import record_done
from crm.models import (
    ChannelIdentity,
    Conversation,
    Interaction,
    InteractionKind,
    InteractionState,
    Interest,
    InterestStatus,
    StageAction,
    StageActionKind,
    StageChange,
)

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 5


async def _latest_conversation(client_id: int) -> Conversation | None:
    """The client's most recent conversation on a channel that still reaches them."""
    subscribed = ChannelIdentity.filter(client_id=client_id, subscribed=True).values_list(
        "id", flat=True
    )
    return (
        await Conversation.filter(
            client_id=client_id,
            identity_id__in=await subscribed,
            channel__is_active=True,
        )
        .order_by("-last_message_at", "-id")
        .first()
    )


async def _run(change: StageChange) -> None:
    interest = await Interest.get(id=change.interest_id)  # type: ignore[attr-defined]
    actions = await StageAction.filter(stage_id=change.to_stage_id).order_by("position", "id")  # type: ignore[attr-defined]
    if interest.status != InterestStatus.OPEN or interest.stage_id != change.to_stage_id:  # type: ignore[attr-defined]
        actions = []  # the interest has already moved on or closed: its robots are moot
    values = await templates.interest_values(interest) if actions else {}
    now = clock.now()
    async with in_transaction():
        for action in actions:
            if action.kind == StageActionKind.SEND_MESSAGE:
                text = templates.render(str(action.params.get("template", "")), values)
                conversation = await _latest_conversation(interest.client_id)  # type: ignore[attr-defined]
                if conversation is None:
                    await record_done(
                        actor=None,
                        kind=InteractionKind.NOTE,
                        client_id=interest.client_id,  # type: ignore[attr-defined]
                        interest_id=interest.id,
                        subject="robot",
                        content=f"not sent, the client has no channel: {text}",
                    )
                    continue
                await queue_reply(conversation.id, actor=None, text=text, meta={"robot": action.id})
            else:
                hours = int(str(action.params.get("due_in_hours", 24)))
                due = now + timedelta(hours=hours)
                await Interaction.create(
                    client_id=interest.client_id,  # type: ignore[attr-defined]
                    interest_id=interest.id,
                    responsible_id=interest.responsible_id,  # type: ignore[attr-defined]
                    kind=InteractionKind.TASK,
                    subject=str(action.params.get("subject", ""))[:300],
                    state=InteractionState.PLANNED,
                    planned_at=due,
                    sort_at=due,
                    remind_at=due,
                )
        await StageChange.filter(id=change.id).update(robots_done=True, robots_claimed_until=None)


async def run_due(*, limit: int = 50) -> int:
    """Run the robots of stage changes not handled yet; returns how many were handled."""
    ids = await claim(
        "stage_changes",
        "robots_done = {}",
        [False],
        lease_column="robots_claimed_until",
        lease=LEASE,
        order_by="id",
        limit=limit,
    )
    for change in await StageChange.filter(id__in=ids).order_by("id"):
        try:
            await _run(change)
        except Exception as exc:
            await _failed(change, exc)
    return len(ids)


async def _failed(change: StageChange, exc: Exception) -> None:
    """Retried after the lease; after MAX_ATTEMPTS it is given up, with a note in the feed
    so the manager knows the client did not get the robot's message."""
    attempts = change.robots_attempts + 1
    log.error("robots of stage change %s failed (attempt %s)", change.id, attempts, exc_info=exc)
    if attempts < MAX_ATTEMPTS:
        await StageChange.filter(id=change.id).update(
            robots_attempts=attempts, robots_error=repr(exc)[:2000]
        )
        return
    async with in_transaction():
        await StageChange.filter(id=change.id).update(
            robots_attempts=attempts,
            robots_error=repr(exc)[:2000],
            robots_done=True,
            robots_claimed_until=None,
        )
        interest = await Interest.get(id=change.interest_id)  # type: ignore[attr-defined]
        await record_done(
            actor=None,
            kind=InteractionKind.NOTE,
            client_id=interest.client_id,  # type: ignore[attr-defined]
            interest_id=interest.id,
            subject="robot",
            content=f"the stage robots failed {attempts} times and were given up: {exc}",
        )
