"""How a mailbox's IMAP and SMTP connections are protected: `tls` (encrypted from the first
byte: IMAP 993, SMTP 465), `starttls` (a plain connection upgraded before the login: IMAP
143, SMTP 587 or 25) or `none`.

`none` would send the mailbox's password in clear, so it is allowed only for a server on
this machine (localhost, 127.0.0.0/8, ::1). When no choice is given it is told from the
port where the port says it (993/465 -> tls, 143/587/25 -> starttls), else from the
provider's documented settings (`email_providers`).
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from crm.errors import ValidationFailed
from crm.i18n import N_

__all__ = ["SECURITIES", "Security", "by_port", "is_loopback", "parse", "require_safe"]

Security = Literal["tls", "starttls", "none"]
SECURITIES: tuple[Security, ...] = ("tls", "starttls", "none")
ALIASES = {"ssl": "tls", "ssl/tls": "tls", "plain": "none"}
PORTS: dict[int, Security] = {
    993: "tls",
    143: "starttls",
    465: "tls",
    587: "starttls",
    25: "starttls",
}

NOT_ENCRYPTED = N_(
    "Without encryption the password would cross the network in clear: choose TLS or "
    "STARTTLS (no encryption is allowed only for a server on this machine)"
)
UNKNOWN = N_("Choose tls, starttls or none")


def parse(value: object, field: str) -> Security | None:
    """A choice as typed (`TLS`, `ssl` for tls, ...); None when empty; ValidationFailed
    naming `field` when it is none of them."""
    text = str(value or "").strip().lower()
    if not text:
        return None
    text = ALIASES.get(text, text)
    if text not in SECURITIES:
        raise ValidationFailed.field(field, UNKNOWN)
    return text


def by_port(port: int) -> Security | None:
    """What a well-known port means; None for any other."""
    return PORTS.get(port)


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def require_safe(security: Security, host: str, field: str) -> None:
    """ValidationFailed on `field` for an unencrypted connection to another machine."""
    if security == "none" and not is_loopback(host):
        raise ValidationFailed.field(field, NOT_ENCRYPTED)
