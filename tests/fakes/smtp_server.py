"""A real SMTP server for tests (aiosmtpd in its own thread) that records what it receives.

    with SmtpServer(user="anna@example.com", password="secret", refuse={"gone@x.org"}) as smtp:
        config = MailboxConfig(..., smtp_host=smtp.host, smtp_port=smtp.port, smtp_ssl=False)
        ...
        smtp.received[0].raw        # the message bytes as sent on the wire
        smtp.received[0].message    # parsed (email.policy.default)

With `user` set, AUTH PLAIN and LOGIN are offered over plain text and required before MAIL.
Recipients in `refuse` get `550 5.1.1`. With `rate` (messages a second per mailbox: the
login, else the sender) a MAIL FROM past it gets `451 4.7.1` (too many messages, slow down),
counted in `limits.refused`, as mail servers refuse a client that sends too fast.
With `tls` (a server SSLContext) STARTTLS is offered, or with `implicit_tls=True` the server
speaks TLS from the first byte (port 465 style).
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.fakes.limits import Limits
from tests.fakes.limits import smtp as smtp_limits

__all__ = ["ReceivedMail", "SmtpServer"]


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted message: the envelope and the raw bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    authenticated_as: str | None = None
    message: EmailMessage = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        object.__setattr__(self, "message", parsed)


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_MAIL(
        self, smtp: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        # Checked here rather than with aiosmtpd's auth_required, which warns without TLS.
        if self.server.user is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        limits = self.server.limits
        mailbox = session.auth_data.login.decode() if session.auth_data is not None else address
        if limits is not None and not limits.allow(mailbox=mailbox.lower()):
            return "451 4.7.1 Too many messages, slow down"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, smtp: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.server.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        login = session.auth_data.login.decode() if session.auth_data is not None else None
        self.server.received.append(
            ReceivedMail(envelope.mail_from or "", tuple(envelope.rcpt_tos), raw, login)
        )
        return "250 2.0.0 OK queued"


class _Controller(Controller):
    """Listens on a socket bound before start, so the port is known and never raced for."""

    def __init__(self, handler: Any, sock: socket.socket, **kwargs: Any) -> None:
        self._sock = sock
        super().__init__(handler, hostname="127.0.0.1", port=sock.getsockname()[1], **kwargs)

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


class SmtpServer:
    """An SMTP server on 127.0.0.1 recording every accepted message in `received`."""

    host = "127.0.0.1"

    def __init__(
        self,
        user: str | None = None,
        password: str | None = None,
        refuse: Iterable[str] = (),
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        rate: float | None = None,
    ) -> None:
        self.user = user
        self.limits = Limits(**smtp_limits(rate)) if rate else None
        self.password = password
        self.refuse = {address.lower() for address in refuse}
        self.received: list[ReceivedMail] = []
        self.tls = tls  # offered by STARTTLS, or from the first byte with `implicit_tls`
        self.implicit_tls = implicit_tls
        self.port = 0
        self._controller: _Controller | None = None

    def _authenticate(
        self, smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.user
            and data.password.decode() == self.password
        )
        # handled=False: aiosmtpd answers the failure itself (535); with its default
        # (handled=True) it says nothing and the client waits until it times out.
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    def start(self) -> SmtpServer:
        sock = socket.socket()
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        options: dict[str, Any] = {"server_hostname": "smtp.test", "auth_require_tls": False}
        if self.user is not None:
            options["authenticator"] = self._authenticate
        if self.tls is not None and self.implicit_tls:
            options["ssl_context"] = self.tls
        elif self.tls is not None:
            options["tls_context"] = self.tls
        self._controller = _Controller(_Handler(self), sock, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
