"""Talking to a mailbox: incremental IMAP fetch by UID, IMAP IDLE, SMTP send, a login check.

Nothing here touches the database. The caller keeps the fetch cursor (`state`) and turns the
raw messages into `InboundMessage`s with `email_mime.parse_email`; the hub deduplicates them by
`source_id` (the Message-ID). Built on aioimaplib 2.0.3 and aiosmtplib 5.1.3.

IMAP is implicit TLS (port 993), STARTTLS (143: aioimaplib has no command for it, so
`_starttls` sends it and upgrades the connection with asyncio's `start_tls`) or plain text
(local servers). SMTP is implicit TLS (465), STARTTLS (587) or plain. A server that cannot
be reached at all is reported as such (`MailServerError.unreachable`), not as a refusal.
"""

from __future__ import annotations

import asyncio
import errno
import re
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Literal

import aioimaplib
import aiosmtplib

from crm.errors import ExternalError
from crm.i18n import N_
from inbox.channels.base import SendError
from inbox.channels.email_mime import normalize_message_id
from inbox.channels.email_providers import detect, domain_of

__all__ = [
    "ImapWatcher",
    "MailServerError",
    "MailboxConfig",
    "check",
    "fetch_new",
    "idle_wait",
    "send",
]

Server = Literal["IMAP", "SMTP"]
FetchState = dict[str, int]
_STOP = aioimaplib.STOP_WAIT_SERVER_PUSH


@dataclass(frozen=True)
class MailboxConfig:
    """One mailbox's credentials and servers. `username` defaults to the address."""

    address: str
    password: str = field(repr=False)
    imap_host: str
    smtp_host: str
    username: str = ""
    imap_port: int = 993
    imap_ssl: bool = True  # TLS from the first byte
    imap_starttls: bool = False  # upgrade a plain connection before the login
    smtp_port: int = 465
    smtp_ssl: bool = True  # TLS from the first byte
    smtp_starttls: bool = False
    sender_name: str = ""
    folder: str = "INBOX"
    timeout: float = 30.0  # seconds for each network step

    def __post_init__(self) -> None:
        if not self.username:
            object.__setattr__(self, "username", self.address)

    @classmethod
    def for_address(cls, address: str, password: str, **overrides: Any) -> MailboxConfig:
        """A config with the provider's settings (`email_providers.detect`), then overrides."""
        settings = detect(address)
        values: dict[str, Any] = {
            "imap_host": settings.imap_host,
            "imap_port": settings.imap_port,
            "imap_ssl": settings.imap_ssl,
            "smtp_host": settings.smtp_host,
            "smtp_port": settings.smtp_port,
            "smtp_ssl": settings.smtp_ssl,
            "smtp_starttls": settings.smtp_starttls,
            "imap_starttls": False,
        }
        return cls(address=address, password=password, **{**values, **overrides})


class MailServerError(ExternalError):
    """An IMAP or SMTP server could not be reached or refused the login.

    `server` names which one; `auth` is True when it refused the credentials. `fields` points
    at the form field to fix: `password`, or `imap_host` / `smtp_host`.
    """

    code = "mail_server_error"
    default_message = N_("The {server} server {host} failed: {reason}")
    auth_message = N_("The {server} server {host} refused the login or password: {reason}")
    unreachable_message = N_(
        "No connection to the {server} server {host}: check its address and port, and the "
        "network of the machine crmhub runs on ({reason})"
    )

    def __init__(
        self,
        server: Server,
        host: str,
        reason: str,
        *,
        auth: bool = False,
        unreachable: bool = False,
    ) -> None:
        if auth:
            message = self.auth_message
        else:
            message = self.unreachable_message if unreachable else self.default_message
        target = "password" if auth else f"{server.lower()}_host"
        super().__init__(message, fields={target: message}, server=server, host=host, reason=reason)
        self.server = server
        self.auth = auth
        self.unreachable = unreachable


# ---------------------------------------------------------------------------------------------
# IMAP sessions


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _response_text(response: aioimaplib.Response) -> str:
    lines = [line for line in response.lines if isinstance(line, bytes)]
    return lines[-1].decode(errors="replace") if lines else str(response.result)


def _imap_client(config: MailboxConfig, on_lost: Any = None) -> aioimaplib.IMAP4:
    # The plain class takes both a TLS context and a connection-lost callback; IMAP4_SSL
    # drops the callback.
    context = ssl.create_default_context() if config.imap_ssl else None
    return aioimaplib.IMAP4(
        host=config.imap_host,
        port=config.imap_port,
        timeout=config.timeout,
        conn_lost_cb=on_lost,
        ssl_context=context,
    )


async def _starttls(client: aioimaplib.IMAP4, config: MailboxConfig) -> None:
    """STARTTLS (RFC 3501 6.2.1) on a greeted connection, then the capabilities again: the
    server's list before the upgrade is not to be trusted."""
    protocol = client.protocol
    if "STARTTLS" not in protocol.capabilities:
        raise MailServerError("IMAP", config.imap_host, "the server does not offer STARTTLS")
    command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
    response = await asyncio.wait_for(protocol.execute(command), config.timeout)
    if response.result != "OK":
        raise MailServerError("IMAP", config.imap_host, _response_text(response))
    transport = await asyncio.get_running_loop().start_tls(
        protocol.transport,
        protocol,
        ssl.create_default_context(),
        server_hostname=config.imap_host,
        ssl_handshake_timeout=config.timeout,
    )
    if transport is None:
        raise MailServerError("IMAP", config.imap_host, "the TLS upgrade failed")
    protocol.transport = transport
    await asyncio.wait_for(protocol.capability(), config.timeout)


def _never_connected(exc: BaseException) -> bool:
    """No connection was made: refused, no route, unknown host, or no greeting in time."""
    return isinstance(exc, ConnectionRefusedError | socket.gaierror | TimeoutError) or (
        isinstance(exc, OSError)
        and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ECONNREFUSED)
    )


async def _open_imap(config: MailboxConfig, on_lost: Any = None) -> aioimaplib.IMAP4:
    """A logged-in IMAP connection; MailServerError("IMAP") when that is not possible."""
    client = _imap_client(config, on_lost)
    try:
        await client.wait_hello_from_server()
    except (OSError, aioimaplib.AioImapException) as exc:
        await _close_imap(client)
        raise MailServerError(
            "IMAP", config.imap_host, _describe(exc), unreachable=_never_connected(exc)
        ) from exc
    try:
        if config.imap_starttls:
            await _starttls(client, config)
        response = await client.login(aioimaplib.quoted(config.username), config.password)
    except (OSError, aioimaplib.AioImapException, MailServerError) as exc:
        await _close_imap(client)
        if isinstance(exc, MailServerError):
            raise
        raise MailServerError("IMAP", config.imap_host, _describe(exc)) from exc
    if response.result != "OK":
        await _close_imap(client)
        reason = _response_text(response)
        raise MailServerError("IMAP", config.imap_host, reason, auth="UNAVAILABLE" not in reason)
    return client


async def _close_imap(client: aioimaplib.IMAP4) -> None:
    """Log out when still possible, and always close the socket."""
    try:
        if client.get_state() in (aioimaplib.AUTH, aioimaplib.SELECTED, aioimaplib.NONAUTH):
            await asyncio.wait_for(client.logout(), 5)
    except (OSError, aioimaplib.AioImapException):
        pass
    finally:
        transport = client.protocol.transport
        if transport is not None:
            transport.close()


_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_UIDNEXT = re.compile(rb"\[UIDNEXT (\d+)\]")


def _response_number(response: aioimaplib.Response, pattern: re.Pattern[bytes]) -> int | None:
    for line in response.lines:
        match = pattern.search(bytes(line))
        if match:
            return int(match.group(1))
    return None


async def _select(client: aioimaplib.IMAP4, config: MailboxConfig) -> tuple[int, int | None]:
    """Select the folder; its UIDVALIDITY and UIDNEXT (None when the server omits it)."""
    try:
        response = await client.select(config.folder)
    except (OSError, aioimaplib.AioImapException) as exc:
        raise MailServerError("IMAP", config.imap_host, _describe(exc)) from exc
    uidvalidity = _response_number(response, _UIDVALIDITY)
    if response.result != "OK" or uidvalidity is None:
        reason = f"cannot select {config.folder}: {_response_text(response)}"
        raise MailServerError("IMAP", config.imap_host, reason)
    return uidvalidity, _response_number(response, _UIDNEXT)


# ---------------------------------------------------------------------------------------------
# Fetching


async def _uids_after(client: aioimaplib.IMAP4, last_uid: int) -> list[int]:
    """The UIDs greater than `last_uid`, ascending."""
    # `n:*` always includes the highest UID, even below n: filter.
    response = await client.uid_search(f"UID {last_uid + 1}:*", charset=None)
    if response.result != "OK":
        raise aioimaplib.Error(_response_text(response))
    numbers = b" ".join(bytes(line) for line in response.lines[:-1]).split()
    return sorted(uid for uid in (int(n) for n in numbers if n.isdigit()) if uid > last_uid)


_FETCH_START = re.compile(rb"^\d+ FETCH \(")
_UID = re.compile(rb"UID (\d+)")


def _fetched(lines: list[Any]) -> dict[int, bytes]:
    """(UID -> raw message) from a UID FETCH (BODY.PEEK[]) response; literals are bytearrays."""
    found: dict[int, bytes] = {}
    uid: int | None = None
    body: bytes | None = None
    for item in lines:
        if isinstance(item, bytearray):
            body = bytes(item)
            continue
        if _FETCH_START.match(item):
            uid, body = None, None
        match = _UID.search(item)
        if match:
            uid = int(match.group(1))
        if uid is not None and body is not None:
            found[uid] = body
    return found


async def _fetch_bodies(client: aioimaplib.IMAP4, uids: list[int]) -> list[tuple[int, bytes]]:
    if not uids:
        return []
    # BODY.PEEK leaves \Seen alone: the mailbox owner still sees the mail as unread.
    response = await client.uid("fetch", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
    if response.result != "OK":
        raise aioimaplib.Error(_response_text(response))
    bodies = _fetched(response.lines)
    return [(uid, bodies[uid]) for uid in uids if uid in bodies]


async def _highest_uid(client: aioimaplib.IMAP4, uidnext: int | None) -> int:
    if uidnext is not None:
        return max(uidnext - 1, 0)
    uids = await _uids_after(client, 0)
    return uids[-1] if uids else 0


async def fetch_new(
    config: MailboxConfig,
    state: Mapping[str, int] | None,
    *,
    initial: Literal["recent", "all"] = "recent",
    limit: int = 50,
) -> tuple[list[tuple[int, bytes]], FetchState]:
    """The messages that arrived since `state`, as (UID, raw bytes), and the new state.

    `state` is {"uidvalidity", "last_uid"} from the previous call, empty on the first one.
    On the first call `initial="recent"` only records where the mailbox ends now (history is
    not imported); `"all"` fetches everything. When UIDVALIDITY changed the old UIDs mean
    nothing, so everything is fetched again: the hub drops what it already has by source_id
    (the Message-ID). At most `limit` messages per call, oldest first; a full batch means
    more may be waiting. Messages are not marked \\Seen. Raises MailServerError.
    """
    client = await _open_imap(config)
    try:
        uidvalidity, uidnext = await _select(client, config)
        if not state and initial == "recent":
            return [], {"uidvalidity": uidvalidity, "last_uid": await _highest_uid(client, uidnext)}
        same = state is not None and state.get("uidvalidity") == uidvalidity
        last_uid = int(state.get("last_uid", 0)) if state is not None and same else 0
        if uidnext is not None and uidnext <= last_uid + 1:
            return [], {"uidvalidity": uidvalidity, "last_uid": last_uid}
        uids = (await _uids_after(client, last_uid))[:limit]
        messages = await _fetch_bodies(client, uids)
        return messages, {"uidvalidity": uidvalidity, "last_uid": uids[-1] if uids else last_uid}
    except (OSError, aioimaplib.AioImapException) as exc:
        raise MailServerError("IMAP", config.imap_host, _describe(exc)) from exc
    finally:
        await _close_imap(client)


# ---------------------------------------------------------------------------------------------
# Waiting for new mail


def _has_exists(push: list[Any]) -> bool:
    return any(isinstance(line, bytes) and line.endswith(b"EXISTS") for line in push)


class ImapWatcher:
    """One IMAP connection kept open to hear about new mail as soon as it arrives.

    Use: `await watcher.wait_for_mail(timeout)` in a loop, calling `fetch_new` after each
    return (a spurious True is harmless). Mail that arrived while nobody was waiting is
    reported by the next wait, since the server compares with what this connection saw.
    """

    def __init__(self, config: MailboxConfig) -> None:
        self._config = config
        self._client: aioimaplib.IMAP4 | None = None
        self._lost = False

    def _on_lost(self, exc: Exception | None) -> None:
        self._lost = True
        if self._client is not None:  # wake up a wait in progress
            self._client.protocol.idle_queue.put_nowait(_STOP)

    async def _connected(self) -> aioimaplib.IMAP4:
        if self._client is not None and not self._lost:
            return self._client
        await self.close()
        self._lost = False
        client = await _open_imap(self._config, self._on_lost)
        try:
            await _select(client, self._config)
        except MailServerError:
            await _close_imap(client)
            raise
        self._client = client
        return client

    async def connect(self) -> bool:
        """Connect and select the folder now, if not connected yet; True when the server
        offers IDLE. Mail arriving from then on is reported by the next wait, so a caller
        that connects before fetching misses nothing between the fetch and the wait."""
        client = await self._connected()
        return bool(client.has_capability("IDLE"))

    # `timeout` is how long to listen, not a deadline to enforce: ending it is no error.
    async def wait_for_mail(self, timeout: float) -> bool:  # noqa: ASYNC109
        """True when the server announced new mail within `timeout` seconds.

        Without IDLE support on the server this just sleeps `timeout` and returns False.
        Raises MailServerError when the server cannot be reached.
        """
        client = await self._connected()
        if not client.has_capability("IDLE"):
            await asyncio.sleep(timeout)
            return False
        queue = client.protocol.idle_queue
        while not queue.empty():  # a stop left over from an earlier wait
            queue.get_nowait()
        try:
            idle = await asyncio.wait_for(client.idle_start(timeout=timeout), self._config.timeout)
        except (OSError, aioimaplib.AioImapException) as exc:
            await self.close()
            raise MailServerError("IMAP", self._config.imap_host, _describe(exc)) from exc
        try:
            return await self._wait_push(client, listen_for=timeout)
        finally:
            await self._end_idle(client, idle)

    async def _wait_push(self, client: aioimaplib.IMAP4, *, listen_for: float) -> bool:
        # idle_start() queues a stop after `listen_for`; the timeout here only guards it.
        while True:
            try:
                push = await client.wait_server_push(timeout=listen_for + self._config.timeout)
            except TimeoutError:
                return False
            if push == _STOP or self._lost:
                return False
            if _has_exists(push):
                return True

    async def _end_idle(self, client: aioimaplib.IMAP4, idle: asyncio.Future[Any]) -> None:
        if self._lost:
            idle.cancel()
            await self.close()
            return
        try:
            if client.has_pending_idle():
                client.idle_done()
            await asyncio.wait_for(idle, self._config.timeout)
        except (OSError, aioimaplib.AioImapException):
            await self.close()

    async def close(self) -> None:
        """Leave IDLE, log out and close the connection; the watcher can connect again."""
        client, self._client = self._client, None
        if client is None:
            return
        if client.has_pending_idle() and not self._lost:
            client.idle_done()
        await _close_imap(client)


async def idle_wait(config: MailboxConfig, timeout: float) -> bool:  # noqa: ASYNC109
    """Connect, wait up to `timeout` seconds for new mail, disconnect. True when some arrived.

    Mail that arrives before the connection is made is not seen: loops should keep an
    `ImapWatcher` instead.
    """
    watcher = ImapWatcher(config)
    try:
        return await watcher.wait_for_mail(timeout)
    finally:
        await watcher.close()


# ---------------------------------------------------------------------------------------------
# SMTP


def _smtp_client(config: MailboxConfig) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=config.smtp_host,
        port=config.smtp_port,
        username=config.username,
        password=config.password,
        use_tls=config.smtp_ssl,
        # Without either flag, upgrade when the server offers STARTTLS.
        start_tls=False if config.smtp_ssl else (True if config.smtp_starttls else None),
        timeout=config.timeout,
    )


def _send_error(config: MailboxConfig, exc: Exception) -> SendError:
    """SendError for an SMTP failure: 5xx answers and refused logins are permanent."""
    where = f"SMTP {config.smtp_host}"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refusal.code for refusal in exc.recipients]
        details = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        permanent = any(c >= 500 for c in codes)
        return SendError(f"{where} refused {details}", permanent=permanent, bounced=permanent)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return SendError(f"{where}: {exc.code} {exc.message}", permanent=exc.code >= 500)
    if isinstance(exc, ssl.SSLCertVerificationError | aiosmtplib.SMTPNotSupported):
        return SendError(f"{where}: {_describe(exc)}", permanent=True)
    if isinstance(exc, aiosmtplib.SMTPException) and "AUTH" in exc.message:
        return SendError(f"{where}: {exc.message}", permanent=True)  # no AUTH offered
    # Refused or unreachable before the DATA was sent: safe to retry. A timeout or a
    # dropped connection later may have left the letter with the server.
    never_sent = isinstance(exc, aiosmtplib.SMTPConnectError | ConnectionRefusedError)
    uncertain = not never_sent and isinstance(
        exc, TimeoutError | aiosmtplib.SMTPServerDisconnected | ConnectionError
    )
    return SendError(f"{where}: {_describe(exc)}", uncertain=uncertain)


async def send(config: MailboxConfig, message: EmailMessage) -> str:
    """Send through the mailbox's SMTP server; the Message-ID without angle brackets.

    A message without a Message-ID gets one on the sender's domain. Raises SendError:
    `permanent` for refused logins, refused recipients (5xx) and unsupported setups;
    connection failures, timeouts and 4xx answers are worth retrying.
    """
    if message["Message-ID"] is None:
        message["Message-ID"] = make_msgid(domain=domain_of(config.address))
    try:
        async with _smtp_client(config) as smtp:
            await smtp.send_message(message, sender=config.address)
    except (OSError, aiosmtplib.SMTPException) as exc:
        raise _send_error(config, exc) from exc
    return normalize_message_id(message["Message-ID"])


async def _check_smtp(config: MailboxConfig) -> None:
    try:
        async with _smtp_client(config):
            pass
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise MailServerError("SMTP", config.smtp_host, exc.message, auth=True) from exc
    except (OSError, aiosmtplib.SMTPException) as exc:
        cause = exc.__cause__ or exc
        unreachable = isinstance(exc, aiosmtplib.SMTPConnectError) and (
            _never_connected(cause) or isinstance(exc, aiosmtplib.SMTPConnectTimeoutError)
        )
        raise MailServerError(
            "SMTP", config.smtp_host, _describe(exc), unreachable=unreachable
        ) from exc


async def check(config: MailboxConfig) -> None:
    """Log in to the IMAP server and select the folder, then log in to the SMTP server;
    MailServerError names the one that failed (`server` "IMAP" or "SMTP", `auth` when it
    refused the credentials)."""
    client = await _open_imap(config)
    try:
        await _select(client, config)
    finally:
        await _close_imap(client)
    await _check_smtp(config)
