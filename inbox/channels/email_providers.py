"""IMAP and SMTP server settings of the common mail providers, looked up by address.

The hosts and ports are the ones each provider documents for mail clients. All four want
an app password (Yandex, Mail.ru, Gmail with 2-step verification) or OAuth rather than the
account password, and IMAP access may have to be switched on in the mailbox settings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["PROVIDERS", "MailServerSettings", "detect", "domain_of"]


@dataclass(frozen=True)
class MailServerSettings:
    """Where a mailbox's IMAP and SMTP servers are and how to reach them.

    `smtp_ssl` is TLS from the first byte (port 465); `smtp_starttls` upgrades a plain
    connection (port 587). `guessed` is True when the domain is not a known provider.
    """

    provider: str
    imap_host: str
    imap_port: int
    imap_ssl: bool
    smtp_host: str
    smtp_port: int
    smtp_ssl: bool
    smtp_starttls: bool
    guessed: bool = False


def _implicit_tls(provider: str, imap_host: str, smtp_host: str) -> MailServerSettings:
    return MailServerSettings(provider, imap_host, 993, True, smtp_host, 465, True, False)


PROVIDERS: dict[str, MailServerSettings] = {
    # https://yandex.ru/support/yandex-360/customers/mail/ru/mail-clients/others
    "yandex": _implicit_tls("yandex", "imap.yandex.ru", "smtp.yandex.ru"),
    # https://help.mail.ru/mail/mailer/popsmtp
    "mailru": _implicit_tls("mailru", "imap.mail.ru", "smtp.mail.ru"),
    # https://developers.google.com/gmail/imap/imap-smtp
    "gmail": _implicit_tls("gmail", "imap.gmail.com", "smtp.gmail.com"),
    # https://support.microsoft.com/office/pop-imap-and-smtp-settings-8361e398-8af4-4e97-b147-6c6c4ac95353
    "outlook": MailServerSettings(
        "outlook", "outlook.office365.com", 993, True, "smtp-mail.outlook.com", 587, False, True
    ),
    # Microsoft 365 work accounts live on their own domains: pick this one by name.
    "office365": MailServerSettings(
        "office365", "outlook.office365.com", 993, True, "smtp.office365.com", 587, False, True
    ),
}

_DOMAINS: dict[str, str] = {
    **dict.fromkeys(
        ("yandex.ru", "yandex.com", "yandex.by", "yandex.kz", "yandex.ua", "ya.ru", "narod.ru"),
        "yandex",
    ),
    **dict.fromkeys(("mail.ru", "bk.ru", "list.ru", "inbox.ru", "internet.ru"), "mailru"),
    **dict.fromkeys(("gmail.com", "googlemail.com"), "gmail"),
    **dict.fromkeys(
        ("outlook.com", "outlook.ru", "hotmail.com", "live.com", "live.ru", "msn.com"), "outlook"
    ),
    "office365.com": "office365",
}


def domain_of(address: str) -> str:
    """The lowercased domain of an email address; ValueError when there is none."""
    local, at, domain = address.strip().rpartition("@")
    domain = domain.strip().rstrip(".").lower()
    if not (at and local and domain):
        raise ValueError(f"not an email address: {address!r}")
    return domain


def detect(address: str) -> MailServerSettings:
    """The provider's documented settings for `address`, or a guess (imap.<domain>:993 and
    smtp.<domain>:465, both TLS) marked `guessed=True` for any other domain."""
    domain = domain_of(address)
    provider = _DOMAINS.get(domain)
    if provider is not None:
        return PROVIDERS[provider]
    guess = _implicit_tls(domain, f"imap.{domain}", f"smtp.{domain}")
    return replace(guess, guessed=True)
