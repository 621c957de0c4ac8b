"""The desk's list of conversations: what a user may see, newest first, each with its
unread count (customer messages after the newest one this user had seen when they last
opened it), how long the customer has been waiting (`Conversation.waiting_since`: their
first message after the last reply a person wrote; a robot's automatic answer does not
count), its channel and the waiting inquiry if any.

One read in SQL, keyset paged on (last_message_at, id) over the conversations' index: a
deep page costs what the first one does. Per row the counts are index lookups on
messages (conversation_id, id), the unread count capped at UNREAD_CAP ("99+")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError

from crm import clock
from crm.access import sees_all_clients
from crm.channels import channel_condition
from crm.models import ConversationRead, Direction, InquiryStatus, Message, User
from crm.rows import moment, query

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UNREAD_CAP = 100  # counted up to here: "99+"
SCOPES = ("all", "mine", "inquiries")  # all I may see / my clients / unassigned inquiries
STATES = ("", "waiting", "answered")
PREVIEW = 140  # characters of the last message shown


@dataclass(frozen=True)
class DeskRow:
    id: int
    client_id: int
    client_name: str
    channel_id: int
    channel_name: str
    channel_kind: str
    last_message_at: datetime
    last_text: str
    unread: int
    waiting_since: datetime | None
    inquiry_id: int | None

    @property
    def cursor(self) -> str:
        """Where the next page starts (after this row)."""
        micros = (self.last_message_at - EPOCH) // timedelta(microseconds=1)  # exact
        return f"{micros}_{self.id}"

    def waiting_minutes(self, now: datetime | None = None) -> int | None:
        if self.waiting_since is None:
            return None
        return max(0, int(((now or clock.now()) - self.waiting_since).total_seconds() // 60))


@dataclass(frozen=True)
class DeskFilter:
    scope: str = "all"
    channel_id: int | None = None
    state: str = ""
    before: tuple[datetime, int] | None = None  # keyset: rows older than this one


def parse_cursor(value: str | None) -> tuple[datetime, int] | None:
    """A `DeskRow.cursor` read back; anything else is no cursor (the first page)."""
    stamp, _, ident = (value or "").partition("_")
    if not (stamp.lstrip("-").isdigit() and ident.isdigit()) or len(stamp) > 20 or len(ident) > 19:
        return None
    try:
        return EPOCH + timedelta(microseconds=int(stamp)), int(ident)
    except OverflowError:
        return None


_OPEN_INQUIRY = (
    "(SELECT MIN(i.id) FROM inquiries i WHERE i.conversation_id = a.id"
    f" AND i.status = '{InquiryStatus.OPEN.value}')"
)


async def desk_rows(actor: User, wanted: DeskFilter, *, limit: int = 50) -> list[DeskRow]:
    """A page of the conversations `actor` may see (as `crm.access.access_conversation`
    decides), filtered, newest first."""
    params: list[Any] = [actor.id, max(0, limit)]
    where = ["a.last_message_at IS NOT NULL"]
    if not await sees_all_clients(actor):
        where.append(
            f"(c.responsible_id = $1 OR (c.responsible_id IS NULL"
            f" AND {channel_condition(actor, 'h', '$1')}))"
        )
    if wanted.scope == "mine":
        where.append("c.responsible_id = $1")
    elif wanted.scope == "inquiries":
        # driven from the few open inquiries, not from every conversation
        where.append(
            "c.responsible_id IS NULL AND a.id IN (SELECT i.conversation_id FROM inquiries i"
            f" WHERE i.status = '{InquiryStatus.OPEN.value}')"
        )
    if wanted.channel_id is not None:
        params.append(wanted.channel_id)
        where.append(f"a.channel_id = ${len(params)}")
    if wanted.state == "waiting":
        where.append("a.waiting_since IS NOT NULL")
    elif wanted.state == "answered":
        where.append("a.waiting_since IS NULL")
    if wanted.before is not None:
        params += [moment(wanted.before[0]), wanted.before[1]]
        at, ident = f"${len(params) - 1}", f"${len(params)}"
        where.append(f"(a.last_message_at, a.id) < ({at}, {ident})")  # the index's range
    sql = (
        "SELECT a.id, a.client_id, c.name, a.channel_id, h.name, h.kind, a.last_message_at,"
        " (SELECT SUBSTR(l.text, 1, 200) FROM messages l WHERE l.conversation_id = a.id"
        " ORDER BY l.id DESC LIMIT 1),"
        " (SELECT COUNT(*) FROM (SELECT 1 FROM messages u WHERE u.conversation_id = a.id"
        f" AND u.direction = '{Direction.IN.value}' AND u.id > COALESCE((SELECT r.last_read_id"
        " FROM conversation_reads r WHERE r.user_id = $1 AND r.conversation_id = a.id), 0)"
        f" LIMIT {UNREAD_CAP}) n),"
        f" a.waiting_since, {_OPEN_INQUIRY}"
        " FROM conversations a JOIN clients c ON c.id = a.client_id"
        " JOIN channels h ON h.id = a.channel_id"
        f" WHERE {' AND '.join(where)}"
        " ORDER BY a.last_message_at DESC, a.id DESC LIMIT $2"
    )
    return [_row(r) for r in await query(sql, params)]


def _moment(value: Any) -> datetime:
    """A timestamp as the driver gives it (SQLite: tortoise's ISO text), aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=clock.now().tzinfo)


def _row(r: Any) -> DeskRow:
    last = " ".join(str(r[7] or "").split())
    return DeskRow(
        id=int(r[0]),
        client_id=int(r[1]),
        client_name=str(r[2]),
        channel_id=int(r[3]),
        channel_name=str(r[4]),
        channel_kind=str(r[5]),
        last_message_at=_moment(r[6]),
        last_text=last[:PREVIEW] + ("…" if len(last) > PREVIEW else ""),
        unread=int(r[8]),
        waiting_since=_moment(r[9]) if r[9] is not None else None,
        inquiry_id=int(r[10]) if r[10] is not None else None,
    )


async def mark_read(user: User, conversation_id: int, up_to: int | None = None) -> None:
    """The user opened the conversation: its messages up to `up_to` (the newest one shown;
    the newest one now when not given) are read by them."""
    if up_to is None:
        newest = (
            await Message.filter(conversation_id=conversation_id)
            .order_by("-id")
            .limit(1)
            .values_list("id", flat=True)
        )
        if not newest:
            return
        up_to = int(str(newest[0]))
    last = up_to
    raised = await ConversationRead.filter(
        user_id=user.id, conversation_id=conversation_id, last_read_id__lt=last
    ).update(last_read_id=last, updated_at=clock.now())
    if (
        raised
        or await ConversationRead.filter(user_id=user.id, conversation_id=conversation_id).exists()
    ):
        return
    try:
        await ConversationRead.create(
            user_id=user.id, conversation_id=conversation_id, last_read_id=last
        )
    except IntegrityError:
        pass  # opened in two tabs at once: the other one wrote it
