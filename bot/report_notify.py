"""The reports' pushes from scheduler ticks: the heads' weekly digest (Monday 09:00 in
each one's time zone, until noon for a worker that was down at nine) and the first-reply
SLA nudges (the responsible manager when a customer has waited the company's target in
working minutes, the heads at twice it).

Each notice is claimed in the database before it is sent (`crm.notices`: a unique row per
head and week, per inquiry and level), so several workers ticking at once send it once;
a transient failure gives the claim back for the next tick. Sending goes through the
`Notifier` (403 marks the user blocked)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot import agenda
from bot.notify import Notifier, Outcome, reachable
from bot.report_cards import digest_card, nudge_card
from bot.views import Card
from crm import clock, notices
from crm.models import NoticeKind, Role, User
from crm.report_digest import WeekDigest, week_digest
from crm.sla import Waiting, heads_to_tell, waiting_past_sla

log = logging.getLogger(__name__)

DIGEST_ROLES = (Role.HEAD, Role.ADMIN)


class ReportNotices:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    async def _deliver(
        self, user: User, card: Card, kind: NoticeKind, subject: int, day: date
    ) -> bool:
        """Claim, send, mark (or give back); True when this call sent it."""
        if not await notices.claim(kind, subject, day):
            return False
        try:
            outcome, _ = await self.notifier.send(user, card)
        except Exception:  # e.g. a proxy's HTML error page aiogram cannot decode
            log.exception("sending a %s notice to user %s failed", kind.value, user.id)
            outcome = Outcome.FAILED
        if outcome is Outcome.FAILED:
            await notices.release(kind, subject, day)
            return False
        await notices.mark_sent(kind, subject, day)
        return outcome is Outcome.SENT

    # -- the weekly digest ---------------------------------------------------------------------

    async def send_week_digests_once(self, *, now: datetime | None = None) -> int:
        """The weekly digest to each head (and admin) bound to the bot whose local time is
        Monday 09:00-12:00, once per user and week."""
        moment = now or clock.now()
        people = await User.filter(
            role__in=list(DIGEST_ROLES),
            is_active=True,
            telegram_user_id__isnull=False,
            telegram_blocked=False,
        ).order_by("id")
        mondays: dict[int, date] = {}
        for user in people:
            local = moment.astimezone(ZoneInfo(user.timezone))
            if local.isoweekday() == 1 and agenda.DIGEST_AT <= local.time() < agenda.DIGEST_UNTIL:
                mondays[user.id] = local.date()
        if not mondays:
            return 0
        taken = await notices.taken(NoticeKind.WEEK_DIGEST, mondays, mondays.values())
        sent = 0
        figures: dict[date, WeekDigest] = {}  # heads and admins see the same: read once a week
        for user in people:
            monday = mondays.get(user.id)
            if monday is None or user.id in taken or not reachable(user):
                continue
            if monday not in figures:
                figures[monday] = await week_digest(user, monday)
            card = digest_card(self.notifier.viewer(user), figures[monday])
            sent += await self._deliver(user, card, NoticeKind.WEEK_DIGEST, user.id, monday)
        return sent

    # -- first-reply SLA nudges ----------------------------------------------------------------

    async def nudge_sla_once(self, *, now: datetime | None = None) -> int:
        """One pass: nudge the manager of each customer waiting past the SLA, and the heads
        of each waiting twice it; each once per inquiry."""
        moment = now or clock.now()
        sla, waiting = await waiting_past_sla(moment)
        if not waiting or not sla:
            return 0
        day_of = {w.inquiry_id: w.since.date() for w in waiting}
        told = await notices.taken(NoticeKind.SLA_MANAGER, day_of, day_of.values())
        ids = {w.manager_id for w in waiting if w.manager_id is not None}
        managers = {u.id: u for u in await User.filter(id__in=list(ids))} if ids else {}
        heads: list[User] | None = None
        sent = 0
        for w in waiting:
            day = day_of[w.inquiry_id]
            manager = managers.get(w.manager_id) if w.manager_id is not None else None
            if w.inquiry_id not in told:
                sent += await self._nudge_manager(w, sla, manager, day)
            if w.escalate:
                if heads is None:
                    heads = await heads_to_tell()
                sent += await self._nudge_heads(w, sla, manager, heads, day)
        return sent

    async def _nudge_manager(self, w: Waiting, sla: int, manager: User | None, day: date) -> int:
        if manager is None or not reachable(manager):  # nobody to tell: claimed as told
            await notices.claim(NoticeKind.SLA_MANAGER, w.inquiry_id, day)
            return 0
        card = nudge_card(self.notifier.viewer(manager), w, sla)
        return int(await self._deliver(manager, card, NoticeKind.SLA_MANAGER, w.inquiry_id, day))

    async def _nudge_heads(
        self, w: Waiting, sla: int, manager: User | None, heads: list[User], day: date
    ) -> int:
        """One claim for the inquiry, then every head (a head who is its manager too got
        the first nudge already and gets this one as well)."""
        if not await notices.claim(NoticeKind.SLA_HEADS, w.inquiry_id, day):
            return 0
        sent, failed = 0, False
        for head in heads:
            card = nudge_card(self.notifier.viewer(head), w, sla, to_head=True, manager=manager)
            try:
                outcome, _ = await self.notifier.send(head, card)
            except Exception:
                log.exception("sending an SLA nudge to user %s failed", head.id)
                outcome = Outcome.FAILED
            sent += outcome is Outcome.SENT
            failed |= outcome is Outcome.FAILED
        if failed and not sent:
            await notices.release(NoticeKind.SLA_HEADS, w.inquiry_id, day)
            return 0
        await notices.mark_sent(NoticeKind.SLA_HEADS, w.inquiry_id, day)
        return sent
