"""The one interface every channel adapter implements, and the values it speaks in.

An adapter verifies a webhook request, parses a body into events, and sends an outgoing
message, returning the platform's own id for it. It never touches the database: the hub
(`inbox/hub.py`) and the outbox (`inbox/outbox.py`) do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

if TYPE_CHECKING:
    from inbox.media import MediaLinks


def load_json(body: bytes | str) -> Any:
    """A webhook or polled body as JSON; ValueError for anything that is not JSON, a body
    nested too deep to parse (`[[[[...`, a RecursionError in the parser) included, so a
    hostile body is refused like a malformed one rather than failing the request."""
    try:
        return json.loads(body)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def json_object(body: bytes | str) -> dict[str, Any] | None:
    """The body as a JSON object; None when it is anything else or not JSON at all
    (`verify` and `handshake` read bodies no one has authenticated yet)."""
    try:
        value = load_json(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class Attachment:
    kind: str  # photo | document | voice | video | audio | sticker | location | contact | file
    file_id: str = ""  # the platform's id or URL to fetch it with
    name: str = ""
    mime: str = ""
    size: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file_id": self.file_id,
            "name": self.name,
            "mime": self.mime,
            "size": self.size,
            **dict(self.extra),
        }


@dataclass(frozen=True)
class InboundMessage:
    """A customer's message (or an edit of one), normalized from any channel."""

    source_id: str  # the platform's message id, unique within the channel
    external_user_id: str  # the sender on the platform (Telegram id, VK id, Viber id, email)
    text: str
    sent_at: datetime
    profile_name: str = ""
    phone: str | None = None  # a contact the customer shared, or known from the profile
    email: str | None = None
    attachments: tuple[Attachment, ...] = ()
    edit: bool = False  # True: update the stored text of `source_id`, keep the original
    lead_source: str | None = None  # a deep link's parameter (inbox.lead_sources)
    # The customer opened the chat (Telegram `/start [payload]`): a command their app sent,
    # not words of theirs; the hub stores it as a "customer opened the chat" line.
    opened_chat: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict)  # subject, Message-ID, References...
    thread_ids: tuple[str, ...] = ()  # email: In-Reply-To and References, newest first


@dataclass(frozen=True)
class StatusUpdate:
    """The platform reports what happened to one of our outgoing messages."""

    source_id: str
    status: Literal["delivered", "seen", "failed"]
    error: str = ""


@dataclass(frozen=True)
class SubscriptionChange:
    """A customer subscribed to or unsubscribed from the channel (Viber, VK's
    message_allow/deny, Telegram's my_chat_member)."""

    external_user_id: str
    subscribed: bool
    profile_name: str = ""


@dataclass(frozen=True)
class ButtonPress:
    """A customer pressed one of our messages' buttons (Telegram's callback_query):
    `data` is what we put on the button (a survey's answer, `crm.mailings.surveys`)."""

    source_id: str  # the platform's id of the press
    external_user_id: str
    data: str


InboundEvent = InboundMessage | StatusUpdate | SubscriptionChange | ButtonPress


@dataclass(frozen=True)
class OutboundMessage:
    message_id: int  # our Message.id: the dedup key where the platform takes one (VK random_id)
    external_user_id: str
    text: str
    attachments: tuple[Attachment, ...] = ()
    # email: subject, In-Reply-To, ...; messengers: "buttons" [{"text", "data"}] to draw
    meta: Mapping[str, Any] = field(default_factory=dict)


class SendError(Exception):
    """A send failed. `retry_after` (seconds) when the platform asked us to wait;
    `permanent` when retrying cannot help (blocked by the user, bad token, ...);
    `uncertain` when the request may have reached the platform (a timeout or a dropped
    connection after it was sent), so a retry could deliver the message twice;
    `unsubscribed` when the platform said the customer blocked us (the outbox marks them
    unsubscribed, as the platform's own unsubscribe event would); `bounced` when a mail
    server refused the recipient's address for good (mailings skip it)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        uncertain: bool = False,
        unsubscribed: bool = False,
        bounced: bool = False,
    ):
        super().__init__(message)
        self.bounced = bounced
        self.retry_after = retry_after
        self.permanent = permanent
        self.uncertain = uncertain
        self.unsubscribed = unsubscribed


@dataclass(frozen=True)
class ChannelConfig:
    """What an adapter needs from a `Channel` row, without importing the models."""

    id: int
    kind: str
    credentials: Mapping[str, Any]  # token, secret, password, ...
    settings: Mapping[str, Any]  # sender name, hosts, mode, ...
    api_base: str = ""  # overrides the platform's own URL (tests, local API servers)
    # Links to the files of queued replies, for platforms that fetch files by URL (Viber).
    media: MediaLinks | None = None


@dataclass(frozen=True)
class PollResult:
    """One round of a poller: raw bodies to store (each later given to `parse`) and the
    cursor to save once they are stored."""

    bodies: list[bytes]
    state: dict[str, Any]


class ChannelAdapter(Protocol):
    kind: ClassVar[str]
    ack: ClassVar[str]  # the body of the 200 answer to an accepted webhook ("ok" for VK)

    def verify_headers(self, headers: Mapping[str, str]) -> bool:
        """False when the headers alone show the request is not the platform's (Telegram's
        secret header wrong or missing, Viber's signature missing): it is refused before its
        body is read. True when only the body can tell (VK's secret is in the body)."""

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        """True when the request really comes from the platform (secret, signature)."""

    def handshake(self, body: bytes) -> str | None:
        """An answer to give without storing anything (VK confirmation code), else None."""

    def parse(self, body: bytes) -> list[InboundEvent]:
        """The events in one webhook body or polled update; raises ValueError if unparsable.
        Events the hub does not handle (our own echoes, typing, ...) are left out."""

    async def send(self, message: OutboundMessage) -> str:
        """Send and return the platform's message id; raises SendError."""

    async def check(self) -> str:
        """Check the connection; returns a description (the bot's name, the mailbox),
        raises crm.errors.ExternalError with a clear reason."""

    async def set_webhook(self, url: str) -> None:
        """Point the platform at our webhook URL (Telegram, Viber); no-op where the admin
        does it by hand (VK) or there is none (email)."""

    async def poll(self, state: Mapping[str, Any], timeout: float) -> PollResult:  # noqa: ASYNC109
        """One round of the no-public-URL mode (getUpdates, Bots Long Poll, IMAP)."""

    async def close(self) -> None:
        """Release sessions and connections."""
