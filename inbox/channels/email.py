"""The email channel: one mailbox read over IMAP and written to over SMTP.

Channel settings (`ChannelConfig`, read by `email_settings.mailbox_config`):

    credentials  password                       the mailbox's (app) password
                 username                       optional, defaults to the address
    settings     address                        the mailbox (may also sit in credentials)
                 sender_name                    the display name in From ("Shop «Sweets»")
                 imap_host, imap_port, imap_security
                 smtp_host, smtp_port, smtp_security
                                                optional: missing ones come from the
                                                port or the address's provider
                                                (`email_providers`, `email_security`:
                                                tls | starttls | none, none only for a
                                                server on this machine); channels
                                                stored earlier keep imap_ssl, smtp_ssl,
                                                smtp_starttls flags
                 folder                         default INBOX
                 import_existing                true: the first poll imports the mailbox's
                                                history; default: only mail from now on
                 batch                          messages per poll, default 50

There are no webhooks: the channel runs in poll mode. `poll` returns each new message as
**the base64 of its raw RFC 5322 bytes** (ASCII, so the hub can store it as text, and
lossless); `parse` takes that form (and, for convenience, the raw bytes too: a raw message
always has a header line with a colon, which base64 never contains).

What `parse` leaves out or turns into something else:
  * mail from our own address (a copy of what we sent): nothing;
  * auto-replies (RFC 3834 `Auto-Submitted: auto-replied`, X-Autoreply): nothing;
  * bounces: a `failed` StatusUpdate for each of our messages they return, else nothing;
  * other automatic mail (bulk, lists, auto-generated web forms) is kept, with
    meta["automatic"] = True.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from typing import Any, ClassVar

from inbox.channels.base import (
    Attachment,
    ChannelConfig,
    InboundEvent,
    OutboundMessage,
    PollResult,
    SendError,
    StatusUpdate,
)
from inbox.channels.email_compose import build_message, reply_subject
from inbox.channels.email_mime import message_ids, parse_email
from inbox.channels.email_reports import find_bounce, is_auto_reply
from inbox.channels.email_settings import flag, mailbox_config, number
from inbox.channels.email_transport import (
    ImapWatcher,
    MailServerError,
    check,
    fetch_new,
    send,
)

__all__ = ["EmailAdapter", "decode_body", "encode_body", "mailbox_config"]

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# Stored bodies


def encode_body(raw: bytes) -> bytes:
    """How a fetched message is handed to the hub: base64 of its raw bytes (ASCII)."""
    return base64.b64encode(raw)


def decode_body(body: bytes | str) -> bytes:
    """The raw message in a stored body: base64 (what `poll` returns), or raw RFC 5322."""
    data = body.encode("ascii", "surrogateescape") if isinstance(body, str) else bytes(body)
    compact = b"".join(data.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        if b":" not in data:
            raise ValueError("neither base64 nor an RFC 5322 message") from None
        return data


# ---------------------------------------------------------------------------------------------
# Outgoing


def _ids(value: object) -> list[str]:
    """Message ids from a header-like string or a list of ids, brackets optional."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return message_ids(value) or [value.strip("<> ")]
    if isinstance(value, Sequence):
        return [found for item in value for found in _ids(item)]
    return []


def _attach(message: EmailMessage, attachments: Sequence[Attachment]) -> None:
    """Attach files given inline as extra["content_b64"]; SendError for any other kind."""
    for index, attachment in enumerate(attachments, start=1):
        content = attachment.extra.get("content_b64")
        if not isinstance(content, str):
            raise SendError(
                f"attachment {attachment.name or index!s} has no content_b64: email sends "
                "only files given inline",
                permanent=True,
            )
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SendError(f"attachment {index}: bad base64", permanent=True) from exc
        maintype, _, subtype = (attachment.mime or "application/octet-stream").partition("/")
        message.add_attachment(
            data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.name or f"attachment-{index}",
        )


# ---------------------------------------------------------------------------------------------
# The adapter


class EmailAdapter:
    """A mailbox as a channel: `poll` fetches new mail by IMAP UID (IDLE while waiting),
    `send` answers by SMTP with threading headers, `check` logs in to both servers."""

    kind: ClassVar[str] = "email"
    ack: ClassVar[str] = ""

    def __init__(self, config: ChannelConfig) -> None:
        self.config = config
        self.mailbox = mailbox_config(config)
        self._import_existing = flag(config.settings, "import_existing", False)
        self._batch = number(config.settings, "batch", 50)
        self._watcher: ImapWatcher | None = None
        self._idle = True  # until the server shows it has no IDLE

    # -- webhooks: email has none -------------------------------------------------------

    def verify_headers(self, headers: Mapping[str, str]) -> bool:
        return False

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        return False

    def handshake(self, body: bytes) -> str | None:
        return None

    async def set_webhook(self, url: str) -> None:
        return None

    # -- inbound --------------------------------------------------------------------------

    def parse(self, body: bytes) -> list[InboundEvent]:
        """The customer's message in one stored body (see the module docstring for what is
        left out); ValueError when it is not a message or has no sender."""
        raw = decode_body(body)
        message = parse_email(raw)
        if message.external_user_id == self.mailbox.address.lower():
            return []
        headers = email.message_from_bytes(raw, policy=email.policy.compat32)
        bounce = find_bounce(headers)
        if bounce is not None:
            return [
                StatusUpdate(source_id=found, status="failed", error=bounce.reason)
                for found in bounce.message_ids
            ]
        if is_auto_reply(headers):
            return []
        return [message]

    async def poll(self, state: Mapping[str, Any], timeout: float) -> PollResult:  # noqa: ASYNC109
        """New mail since `state` ({"uidvalidity", "last_uid"}; empty on the first run).

        When there is none and the server offers IDLE, waits up to `timeout` seconds for
        some, then fetches again. Mail is never marked as read. Raises MailServerError
        (an ExternalError) when the mailbox cannot be read.
        """
        watcher = await self._ready_watcher() if timeout > 0 else None
        bodies, new_state = await self._fetch(state)
        if bodies or watcher is None:
            return PollResult(bodies, new_state)
        try:
            arrived = await watcher.wait_for_mail(timeout)
        except MailServerError as exc:
            # Keep the cursor just fetched (on a first run it is where history ends); the
            # next round reconnects and reports the error if it persists.
            log.warning("IMAP IDLE for %s failed: %s", self.mailbox.address, exc)
            await self._close_watcher()
            return PollResult([], new_state)
        if arrived:
            bodies, new_state = await self._fetch(new_state)
        return PollResult(bodies, new_state)

    async def _fetch(self, state: Mapping[str, Any]) -> tuple[list[bytes], dict[str, Any]]:
        cursor = {key: int(state[key]) for key in ("uidvalidity", "last_uid") if key in state}
        messages, new_cursor = await fetch_new(
            self.mailbox,
            cursor,
            initial="all" if self._import_existing else "recent",
            limit=self._batch,
        )
        return [encode_body(raw) for _, raw in messages], {**state, **new_cursor}

    async def _ready_watcher(self) -> ImapWatcher | None:
        """The IDLE connection, connected before fetching so that no mail slips between the
        fetch and the wait; None when the server has no IDLE."""
        if not self._idle:
            return None
        watcher = self._watcher or ImapWatcher(self.mailbox)
        self._watcher = watcher
        if not await watcher.connect():
            self._idle = False
            await self._close_watcher()
            return None
        return watcher

    async def _close_watcher(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            await watcher.close()

    # -- outbound -------------------------------------------------------------------------

    def _message_id(self, message: OutboundMessage) -> str | None:
        """A Message-ID derived from our message id and the channel's secret, so that a
        retried send carries the same id (Gmail and others drop the duplicate); None (a
        random id) when the channel has no secret to keep it unguessable and unique."""
        secret = str(self.config.credentials.get("webhook_secret") or "")
        if not secret:
            return None
        key = f"{self.config.id}:{message.message_id}".encode()
        digest = hmac.new(secret.encode(), key, hashlib.sha256).hexdigest()[:32]
        return f"{digest}@{self.mailbox.address.rpartition('@')[2]}"

    def build(self, message: OutboundMessage) -> EmailMessage:
        """The email for an outgoing message (see `send`)."""
        meta = message.meta
        reply_to = _ids(meta.get("in_reply_to"))
        recipients = [str(a) for a in meta.get("reply_to") or () if "@" in str(a)]
        recipient = recipients[0] if recipients else message.external_user_id.strip()
        if "@" not in recipient:
            raise SendError(f"not an email address: {recipient!r}", permanent=True)
        subject = str(meta.get("subject") or "").strip()
        if reply_to:
            subject = reply_subject(subject)
        built = build_message(
            self.mailbox.sender_name,
            self.mailbox.address,
            recipient,
            subject or self.mailbox.sender_name,
            message.text,
            in_reply_to=reply_to[0] if reply_to else None,
            references=_ids(meta.get("references")),
            message_id=self._message_id(message),
        )
        unsubscribe = str(meta.get("list_unsubscribe") or "")
        if unsubscribe.startswith(("https://", "http://")):  # a mailing's, RFC 8058
            built["List-Unsubscribe"] = f"<{unsubscribe}>"
            built["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        if meta.get("html"):  # a mailing's HTML body beside the text
            built.add_alternative(str(meta["html"]), subtype="html")
        _attach(built, message.attachments)
        return built

    async def send(self, message: OutboundMessage) -> str:
        """Send by SMTP; the Message-ID without brackets (the form `parse` uses).

        meta: `subject` (the conversation's; "Re: " is added to a reply), `in_reply_to` (the
        Message-ID of the message answered), `references` (its References, a list or a
        header string), optionally `reply_to` (its Reply-To addresses: the answer goes to the
        first one instead of external_user_id), `list_unsubscribe` (a mailing's one-click
        unsubscribe URL) and `html` (a mailing's HTML body). Without a subject the sender
        name is used.
        Attachments need extra["content_b64"]. Raises SendError.
        """
        return await send(self.mailbox, self.build(message))

    # -- housekeeping ---------------------------------------------------------------------

    async def check(self) -> str:
        """Log in to IMAP (and select the folder), then SMTP; the mailbox address.
        MailServerError (an ExternalError) names the server that failed and why."""
        await check(self.mailbox)
        return self.mailbox.address

    async def close(self) -> None:
        await self._close_watcher()
