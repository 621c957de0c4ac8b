"""A mailbox channel's settings and credentials as a `MailboxConfig`: the address, the
(app) password, and each server's host, port and protection, missing ones filled from the
port or the address's provider (`email_providers`, `email_security`). Forms store flags
and numbers as text; an unusable value is a ValidationFailed naming its field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm import normalize
from crm.errors import ValidationFailed
from crm.i18n import N_
from inbox.channels import email_security
from inbox.channels.base import ChannelConfig
from inbox.channels.email_providers import detect
from inbox.channels.email_security import Security
from inbox.channels.email_transport import MailboxConfig

__all__ = ["flag", "mailbox_config", "number"]

_TRUE = frozenset({"1", "true", "yes", "on", "y"})
_FALSE = frozenset({"0", "false", "no", "off", "n", ""})


def flag(settings: Mapping[str, Any], name: str, default: bool) -> bool:
    """A boolean setting; forms store "true"/"false" or "on" as text."""
    value = settings.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValidationFailed.field(name, N_("Unknown choice"))


def number(settings: Mapping[str, Any], name: str, default: int) -> int:
    """A positive whole number setting (forms store it as text); `default` when unset."""
    value = settings.get(name)
    if value in (None, ""):
        return default
    try:
        found = int(str(value).strip())
    except ValueError:
        raise ValidationFailed.field(name, N_("Not a number")) from None
    if found <= 0:
        raise ValidationFailed.field(name, N_("Not a number"))
    return found


def _security(
    settings: Mapping[str, Any], server: str, port: int | None, provider: Security
) -> Security:
    """The choice stored for `server` ("imap" or "smtp"); else what the flags of channels
    stored before the choice existed say; else what the port says; else the provider's."""
    chosen = email_security.parse(settings.get(f"{server}_security"), f"{server}_security")
    if chosen is not None:
        return chosen
    by_port = email_security.by_port(port) if port else None
    if settings.get(f"{server}_ssl") is not None or settings.get(f"{server}_starttls") is not None:
        if flag(settings, f"{server}_ssl", False):
            return "tls"
        if flag(settings, f"{server}_starttls", False):
            return "starttls"
        if settings.get(f"{server}_starttls") is None and by_port == "starttls":
            return "starttls"  # "not TLS from the first byte" on a STARTTLS port
        return "none"
    return by_port or provider


def _servers(settings: Mapping[str, Any], address: str) -> dict[str, Any]:
    """Hosts, ports and protection of both servers: what the settings give, the rest from
    the address's provider; ValidationFailed for no encryption to another machine."""
    found = detect(address)
    provider: dict[str, tuple[str, int, Security]] = {
        "imap": (found.imap_host, found.imap_port, "tls" if found.imap_ssl else "none"),
        "smtp": (
            found.smtp_host,
            found.smtp_port,
            "tls" if found.smtp_ssl else ("starttls" if found.smtp_starttls else "none"),
        ),
    }
    values: dict[str, Any] = {}
    for server, (default_host, default_port, default_security) in provider.items():
        host = str(settings.get(f"{server}_host") or "").strip() or default_host
        given = settings.get(f"{server}_port") not in (None, "")
        port = number(settings, f"{server}_port", 0) if given else None
        security = _security(settings, server, port, default_security)
        if port is None:
            same = security == default_security and host == default_host
            port = default_port if same else STANDARD_PORTS[server][security]
        email_security.require_safe(security, host, f"{server}_security")
        values |= {
            f"{server}_host": host,
            f"{server}_port": port,
            f"{server}_ssl": security == "tls",
            f"{server}_starttls": security == "starttls",
        }
    return values


# The IANA ports of each protection, used when a choice differs from the provider's.
STANDARD_PORTS: dict[str, dict[Security, int]] = {
    "imap": {"tls": 993, "starttls": 143, "none": 143},
    "smtp": {"tls": 465, "starttls": 587, "none": 25},
}


def mailbox_config(config: ChannelConfig) -> MailboxConfig:
    """The mailbox described by a channel's settings and credentials; ValidationFailed
    naming the field when the address or password is missing, a value is unusable, or a
    server on another machine would be reached without encryption."""
    settings, credentials = config.settings, config.credentials
    raw_address = str(settings.get("address") or credentials.get("address") or "").strip()
    password = str(credentials.get("password") or "")
    missing = {
        name: N_("Required")
        for name, value in (("address", raw_address), ("password", password))
        if not value
    }
    if missing:
        raise ValidationFailed(fields=missing)
    address = normalize.email(raw_address, field="address")
    values: dict[str, Any] = {
        "username": str(credentials.get("username") or settings.get("username") or address),
        "sender_name": str(settings.get("sender_name") or "").strip(),
        "folder": str(settings.get("folder") or "INBOX"),
        **_servers(settings, address),
    }
    if "timeout" in settings:
        values["timeout"] = float(number(settings, "timeout", 30))
    return MailboxConfig(address=address, password=password, **values)
