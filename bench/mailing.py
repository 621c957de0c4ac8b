"""Mailing benchmark (a reduced first version): one mailing to --recipients Telegram
customers, sent by two workers at once against the Telegram fake enforcing Telegram's
flood control (30 messages a second per bot, 1 a second per chat: 429 past them).

    .venv/bin/python -m bench.mailing [--dsn postgresql://...] [--redis redis://...]
                                      [--recipients 900]

Each worker is an `Inbox` of its own (its own adapters and pacer, as a worker process
has), both in this process, sharing the pace through Redis (--redis) or PostgreSQL's
pace_slots. Reports the send rate against the limit (goal: at least 90%), the 429s the
fake gave (goal: none) and the duplicates (goal: none).

Not covered yet: VK, Viber and SMTP; separate worker processes and a worker killed -9
(exactly once across workers and leases is tested in tests/inbox/test_mailings.py)."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

from bench.scratch import recreate
from crm import channels, db, users
from crm.company import get_company
from crm.config import normalize_db_url
from crm.mailings import service
from crm.mailings.audience import Audience
from crm.models import (
    ChannelIdentity,
    Client,
    Conversation,
    Mailing,
    MailingStatus,
    Message,
    MessageStatus,
    Role,
)
from inbox.service import Inbox
from tests.fakes.telegram_api import TelegramAPI

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/crmhub_bench_mailing"
TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
LIMIT = 30.0  # Telegram: messages a second per bot


async def _audience(channel_id: int, count: int) -> list[int]:
    clients = [Client(name=f"Клиент {n}", timezone="Europe/Moscow") for n in range(count)]
    await Client.bulk_create(clients, batch_size=1000)
    ids = list(await Client.all().order_by("id").values_list("id", flat=True))
    identities = [
        ChannelIdentity(channel_id=channel_id, external_id=str(900_000 + n), client_id=i)
        for n, i in enumerate(ids)
    ]
    await ChannelIdentity.bulk_create(identities, batch_size=1000)
    rows = await ChannelIdentity.all().values_list("id", "client_id")
    await Conversation.bulk_create(
        [Conversation(channel_id=channel_id, identity_id=i, client_id=c) for i, c in rows],
        batch_size=1000,
    )
    return [int(i) for i in ids]


async def _worker(inbox: Inbox, mailing_id: int) -> None:
    while True:
        report = await inbox.send_all(budget=5.0)
        mailing = await Mailing.get(id=mailing_id)
        if mailing.status == MailingStatus.DONE:
            return
        if not (report.sent or report.failed or report.dead):
            await asyncio.sleep(0.05)


async def run(args: argparse.Namespace) -> int:
    url = normalize_db_url(args.dsn)
    await recreate(args.dsn)
    await db.migrate(url)
    async with db.session(url), TelegramAPI(rate_limits=True) as fake:
        admin = await users.create_user(
            email="admin@bench.local", full_name="Админ", role=Role.ADMIN, actor=None
        )
        company = await get_company()
        company.mailing_from_minute, company.mailing_until_minute = 0, 24 * 60
        await company.save()
        channel = await channels.create_channel(
            kind="telegram",
            name="Бот",
            credentials={"token": TOKEN},
            api_base=fake.base_url,
            actor=admin,
        )
        ids = await _audience(channel.id, args.recipients)
        mailing = await service.save_draft(
            service.Draft(
                name="Бенчмарк",
                text="Здравствуйте, {client_name}!",
                audience=Audience(client_ids=tuple(ids)),
            ),
            actor=admin,
        )
        started = time.monotonic()
        await service.start(mailing.id, actor=admin)
        planned = time.monotonic() - started
        workers = [Inbox(redis_url=args.redis), Inbox(redis_url=args.redis)]
        for worker in workers:
            await worker.preload()  # aiogram imported before the clock starts, as at start-up
            await worker.adapters.get(channel)
        began = time.monotonic()
        await asyncio.gather(*(_worker(w, mailing.id) for w in workers))
        elapsed = time.monotonic() - began
        for worker in workers:
            await worker.stop()
        sent = await Message.filter(status=MessageStatus.SENT).count()
        per_chat = Counter(m["chat"]["id"] for m in fake.delivered)
        duplicates = sum(c - 1 for c in per_chat.values() if c > 1)
        rate = len(fake.delivered) / elapsed if elapsed else 0.0
        pacing = "Redis" if args.redis else "PostgreSQL pace_slots"
        print(f"recipients {args.recipients}, start (plan + rows) {planned:.2f} s")
        print(
            f"two workers, pace shared in {pacing}: {len(fake.delivered)} delivered, "
            f"{sent} sent rows in {elapsed:.1f} s"
        )
        print(
            f"rate {rate:.1f}/s = {rate / LIMIT:.0%} of Telegram's {LIMIT:.0f}/s "
            f"(goal >= 90%); 429s {fake.limits.refused if fake.limits else 0} (goal 0); "
            f"duplicates {duplicates} (goal 0)"
        )
        ok = rate >= 0.9 * LIMIT and not (fake.limits and fake.limits.refused) and not duplicates
        return 0 if ok and sent == args.recipients else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.mailing", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--dsn", default=DEFAULT_DSN, help="a scratch PostgreSQL database (recreated)"
    )
    parser.add_argument("--redis", default=None, help="share the pace in this Redis")
    parser.add_argument("--recipients", type=int, default=900)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
