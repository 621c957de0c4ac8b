"""bench.mailing's scratch data: the four channels on their fakes and an audience split
across them, inserted set-based (a few statements for any size), then one mailing.

Each client has exactly one way to be reached: a subscribed identity on Telegram, VK or
Viber (with its conversation, as the inbox leaves a customer who wrote), or an email
address. The split follows the channels' limits (30 : 20 : 20 : the mailbox's rate), so
every channel is busy for the whole mailing (or is even, `--split even`: the messengers
finish first and the mailbox goes on alone); the kinds are interleaved by client id, as
in a real base, so each batch a worker claims mixes the channels."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from crm import channels, users
from crm.company import get_company
from crm.mailings import service
from crm.mailings.audience import Audience
from crm.models import Channel, Role, User

TG_TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
VK_TOKEN = "vk1.a.bench-community-token"
VK_GROUP = 229_000_001
VIBER_TOKEN = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f"
MAILBOX = "shop@bench.example"
MAILBOX_PASSWORD = "bench-pass"
KINDS = ("telegram", "vk", "viber", "email")
# the platforms' limits, messages a second per bot / community / mailbox (tests/fakes/limits.py)
LIMITS = {"telegram": 30.0, "vk": 20.0, "viber": 20.0}


@dataclass
class Audience4:
    """Who is reached where: kind -> {client id: the address the fake will see}."""

    channel_ids: dict[str, int] = field(default_factory=dict)
    expected: dict[str, dict[int, str]] = field(default_factory=dict)

    @property
    def client_ids(self) -> list[int]:
        return sorted(c for by_client in self.expected.values() for c in by_client)


def split(count: int, weights: dict[str, float]) -> list[str]:
    """`count` kinds interleaved in proportion to `weights` (smooth weighted round robin)."""
    total = sum(weights.values())
    credit = dict.fromkeys(weights, 0.0)
    order = []
    for _ in range(count):
        for kind, weight in weights.items():
            credit[kind] += weight
        kind = max(credit, key=lambda k: credit[k])
        credit[kind] -= total
        order.append(kind)
    return order


def address_of(kind: str, client_id: int) -> str:
    """The identity's external id on the platform (the fake's chat, peer, receiver, address)."""
    if kind == "telegram":
        return str(800_000_000 + client_id)
    if kind == "vk":
        return str(600_000_000 + client_id)
    if kind == "viber":
        return f"bench{client_id:09d}+viber=="
    return f"client{client_id}@mail.example"


async def make_channels(
    admin: User, *, tg: str, vk: str, viber: str, smtp_port: int, imap_port: int, rate: float
) -> dict[str, Channel]:
    made = {
        "telegram": await channels.create_channel(
            kind="telegram", name="Бот", credentials={"token": TG_TOKEN}, api_base=tg, actor=admin
        ),
        "vk": await channels.create_channel(
            kind="vk",
            name="Сообщество",
            credentials={"token": VK_TOKEN, "secret": "bench-secret", "confirmation": "a1b2c3"},
            settings={"group_id": VK_GROUP},
            api_base=vk,
            actor=admin,
        ),
        "viber": await channels.create_channel(
            kind="viber",
            name="Viber",
            credentials={"token": VIBER_TOKEN},
            settings={"sender_name": "Магазин"},
            api_base=viber,
            actor=admin,
        ),
        "email": await channels.create_channel(
            kind="email",
            name="Рассылки",
            credentials={"password": MAILBOX_PASSWORD},
            settings={
                "address": MAILBOX,
                "sender_name": "Магазин",
                "imap_host": "127.0.0.1",
                "imap_port": imap_port,
                "imap_ssl": False,
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_port,
                "smtp_ssl": False,
                "timeout": 10,
                "send_rate": rate,
            },
            actor=admin,
        ),
    }
    return made


async def audience(
    dsn: str, count: int, made: dict[str, Channel], rate: float, *, even: bool = False
) -> Audience4:
    """`count` clients split across the channels (by their limits, or `even`ly), set-based;
    who is expected where."""
    weights = dict.fromkeys(KINDS, 1.0) if even else {**LIMITS, "email": rate}
    kinds = split(count, weights)
    found = Audience4(channel_ids={k: c.id for k, c in made.items()})
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            ids = await conn.fetch(
                "INSERT INTO clients (created_at, updated_at, kind, name, legal_name, org_form,"
                " region, relation_type, is_lead, lead_source, note, timezone)"
                " SELECT now(), now(), 'individual', 'Клиент ' || g, '', '', '', 'buyer',"
                " false, '', '', 'Europe/Moscow' FROM generate_series(1, $1) g RETURNING id",
                count,
            )
            client_ids = sorted(int(r["id"]) for r in ids)
            by_kind: dict[str, list[int]] = {k: [] for k in KINDS}
            for client_id, kind in zip(client_ids, kinds, strict=True):
                by_kind[kind].append(client_id)
            for kind, members in by_kind.items():
                found.expected[kind] = {c: address_of(kind, c) for c in members}
                if kind == "email":
                    await conn.execute(
                        "INSERT INTO client_contacts (created_at, updated_at, kind, value,"
                        " position, client_id) SELECT now(), now(), 'email', e, 0, c"
                        " FROM unnest($1::text[], $2::int[]) AS t(e, c)",
                        [address_of(kind, c) for c in members],
                        members,
                    )
                    continue
                await conn.execute(
                    "INSERT INTO channel_identities (created_at, updated_at, external_id,"
                    " display_name, subscribed, channel_id, client_id)"
                    " SELECT now(), now(), e, '', true, $1, c"
                    " FROM unnest($2::text[], $3::int[]) AS t(e, c)",
                    made[kind].id,
                    [address_of(kind, c) for c in members],
                    members,
                )
            await conn.execute(
                "INSERT INTO conversations (created_at, updated_at, channel_id, client_id,"
                " identity_id, last_message_at)"
                " SELECT now(), now(), channel_id, client_id, id, now() FROM channel_identities"
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return found


async def admin_and_hours() -> User:
    admin = await users.create_user(
        email="admin@bench.local", full_name="Админ", role=Role.ADMIN, actor=None
    )
    company = await get_company()  # mailing hours all day: the bench runs at any hour
    company.mailing_from_minute, company.mailing_until_minute = 0, 24 * 60
    await company.save()
    return admin


async def draft(admin: User, client_ids: list[int]) -> int:
    mailing = await service.save_draft(
        service.Draft(
            name="Бенчмарк рассылки",
            text="Здравствуйте, {client_name}! Скидка 10% до конца недели.",
            subject="Скидка для вас",
            audience=Audience(client_ids=tuple(client_ids)),
        ),
        actor=admin,
    )
    return mailing.id
