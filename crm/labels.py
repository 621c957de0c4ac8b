"""Words for the values the code keeps in English: what a reader sees for an enum value (a
deal's status, an interaction's kind and state, a message's status, an import's status, a
client's kind and relation type), for a history row's field and values, and for a channel's
credential and setting keys.

Every label is a msgid, translated where it is shown; a label with a context is a
`(context, msgid)` pair (`NP_`). A value without a label is shown as it is, which
`tests/admin_web/test_russian_pages.py` catches in Russian."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from enum import Enum
from typing import Any

from crm.i18n import N_, NP_, format_date, gettext, pgettext
from crm.models import (
    ChannelKind,
    Client,
    ClientKind,
    ImportStatus,
    InquiryStatus,
    InteractionKind,
    InteractionState,
    InterestStatus,
    MessageStatus,
    RelationType,
    Role,
)

Label = str | tuple[str, str]

INTEREST_STATUS: dict[str, Label] = {
    InterestStatus.OPEN: NP_("deal status", "Open"),
    InterestStatus.WON: NP_("deal status", "Won"),
    InterestStatus.LOST: NP_("deal status", "Lost"),
}
INTERACTION_KIND: dict[str, str] = {  # plain msgids: the bot formats them itself
    InteractionKind.CALL: N_("Call"),
    InteractionKind.MEETING: N_("Meeting"),
    InteractionKind.EMAIL: N_("Email"),
    InteractionKind.MESSAGE: N_("Message"),
    InteractionKind.SMS: N_("SMS"),
    InteractionKind.TASK: N_("Task"),
    InteractionKind.NOTE: N_("Note"),
}
INTERACTION_STATE: dict[str, Label] = {
    InteractionState.PLANNED: N_("Planned"),
    InteractionState.DONE: N_("Done"),
    InteractionState.CANCELLED: N_("Cancelled"),
}
MESSAGE_STATUS: dict[str, Label] = {
    MessageStatus.RECEIVED: NP_("message status", "Received"),
    MessageStatus.QUEUED: NP_("message status", "Queued"),
    MessageStatus.SENDING: NP_("message status", "Sending"),
    MessageStatus.SENT: NP_("message status", "Sent"),
    MessageStatus.DELIVERED: NP_("message status", "Delivered"),
    MessageStatus.SEEN: NP_("message status", "Seen"),
    MessageStatus.FAILED: NP_("message status", "Not sent yet, retrying"),
    MessageStatus.DEAD: NP_("message status", "Not delivered"),
}
IMPORT_STATUS: dict[str, Label] = {
    ImportStatus.PENDING: NP_("import status", "Waiting"),
    ImportStatus.RUNNING: NP_("import status", "Running"),
    ImportStatus.DONE: NP_("import status", "Finished"),
    ImportStatus.FAILED: NP_("import status", "Stopped"),
}
CLIENT_KIND: dict[str, Label] = {
    ClientKind.LEGAL: N_("Legal entity"),
    ClientKind.INDIVIDUAL: N_("Individual"),
}
SOLE_PROPRIETOR: Label = NP_("client kind", "Sole proprietor")
RELATION_TYPE: dict[str, Label] = {
    RelationType.BUYER: N_("Buyer"),
    RelationType.SUPPLIER: N_("Supplier"),
    RelationType.COMPETITOR: N_("Competitor"),
    RelationType.GOVERNMENT: N_("Government body"),
    RelationType.FOUNDER: N_("Founder"),
    RelationType.OTHER: N_("Other"),
}
ROLE: dict[str, Label] = {
    Role.ADMIN: N_("Administrator"),
    Role.HEAD: N_("Head of sales"),
    Role.MANAGER: N_("Manager"),
}
INQUIRY_STATUS: dict[str, Label] = {
    InquiryStatus.OPEN: NP_("inquiry status", "Waiting"),
    InquiryStatus.ACCEPTED: NP_("inquiry status", "Accepted"),
    InquiryStatus.REJECTED: NP_("inquiry status", "Rejected"),
}
CHANNEL_KIND: dict[str, Label] = {
    ChannelKind.TELEGRAM: N_("Telegram bot"),
    ChannelKind.VK: N_("VK community"),
    ChannelKind.VIBER: N_("Viber bot"),
    ChannelKind.EMAIL: N_("Mailbox"),
}
_BY_TYPE: dict[type[Enum], Mapping[str, Label]] = {
    InterestStatus: INTEREST_STATUS,
    InteractionKind: INTERACTION_KIND,
    InteractionState: INTERACTION_STATE,
    MessageStatus: MESSAGE_STATUS,
    ImportStatus: IMPORT_STATUS,
    ClientKind: CLIENT_KIND,
    RelationType: RELATION_TYPE,
    Role: ROLE,
    InquiryStatus: INQUIRY_STATUS,
    ChannelKind: CHANNEL_KIND,
}

# The fields of a card's history (ChangeRecord.field); custom fields keep their own names
HISTORY_FIELDS: dict[str, Label] = {
    "kind": N_("Kind"),
    "name": N_("Name"),
    "legal_name": N_("Full legal name"),
    "inn": N_("INN"),
    "kpp": N_("KPP"),
    "org_form": N_("Legal form"),
    "birthday": N_("Birthday"),
    "region": N_("Business region"),
    "timezone": N_("Time zone"),
    "relation_type": N_("Relation"),
    "responsible_id": N_("Responsible"),
    "is_lead": NP_("history", "Lead"),
    "lead_source": N_("Lead source"),
    "note": N_("Note"),
    "phones": N_("Phones"),
    "emails": N_("Emails"),
    "tags": N_("Tags"),
    "merged": NP_("history", "Merged client"),
    "title": N_("Interest title"),
    "amount": N_("Amount"),
    "currency": NP_("history", "Currency"),
    "stage_id": N_("Stage"),
    "status": N_("Status"),
    "loss_reason_id": N_("Reason"),
    "position": NP_("history", "Position"),
    "phone": N_("Phone"),
    "email": N_("Email"),
    "invoice": NP_("history", "Invoice"),
    "payment": NP_("history", "Payment"),
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HISTORY_VALUES: dict[str, dict[str, Label]] = {
    "kind": CLIENT_KIND,
    "relation_type": RELATION_TYPE,
    "status": INTEREST_STATUS,
}

# A channel's credential and setting keys as the panel shows them
CHANNEL_FIELDS: dict[str, Label] = {
    "token": NP_("channel", "Token"),
    "secret": N_("Secret key (Callback API)"),
    "confirmation": N_("Confirmation code (Callback API)"),
    "webhook_secret": NP_("channel", "Webhook secret"),
    "password": N_("Password"),
    "group_id": N_("Community id"),
    "address": N_("Email address"),
    "username": NP_("channel", "Login"),
    "sender_name": N_("Sender name"),
    "sender_avatar": NP_("channel", "Sender avatar"),
    "folder": NP_("channel", "Folder"),
    "imap_host": N_("IMAP server"),
    "imap_port": N_("IMAP port"),
    "smtp_host": N_("SMTP server"),
    "smtp_port": N_("SMTP port"),
    "smtp_ssl": NP_("channel", "SMTP over SSL/TLS"),
    "smtp_starttls": NP_("channel", "SMTP with STARTTLS"),
    "smtp_security": N_("SMTP encryption"),
    "mode": N_("Mode"),
}
_CHANNEL_VALUES: dict[str, dict[str, Label]] = {
    "mode": {"polling": N_("polling"), "webhook": N_("webhook")},
    "smtp_security": {"ssl": "SSL/TLS", "starttls": "STARTTLS", "none": N_("none")},
}


def text(label: Label, locale: str | None) -> str:
    """A label in `locale`."""
    if isinstance(label, tuple):
        return pgettext(label[0], label[1], locale)
    return gettext(label, locale)


def label(
    value: Enum | str | None, locale: str | None, table: Mapping[str, Label] | None = None
) -> str:
    """The reader's word for an enum value (its table found by its type, or given)."""
    if value is None:
        return ""
    if table is None:
        table = _BY_TYPE.get(type(value), {}) if isinstance(value, Enum) else {}
    key = value.value if isinstance(value, Enum) else value
    found = table.get(str(key))
    return text(found, locale) if found is not None else str(key)


def is_sole_proprietor(client: Client) -> bool:
    """An individual entrepreneur (ИП): an individual with an INN (only an entrepreneur
    shows one of 12 digits on a client card), or one written as such."""
    if client.kind != ClientKind.INDIVIDUAL:
        return False
    written = (client.org_form or "").strip().upper() == "ИП" or client.name.startswith("ИП ")
    return bool(client.inn) or written


def client_kind(client: Client, locale: str | None) -> str:
    """ "Legal entity", "Sole proprietor" (short: ИП) or "Individual"."""
    if is_sole_proprietor(client):
        return text(SOLE_PROPRIETOR, locale)
    return label(client.kind, locale, CLIENT_KIND)


def _yes_no(value: Any, locale: str | None) -> str | None:
    if value in (True, "True", "true"):
        return gettext("yes", locale)
    if value in (False, "False", "false"):
        return gettext("no", locale)
    return None


def history_field(field: str, locale: str | None) -> str:
    found = HISTORY_FIELDS.get(field)
    return text(found, locale) if found is not None else field


def history_value(
    field: str, value: str | None, locale: str | None, people: Mapping[int, str] | None = None
) -> str:
    """A history row's old or new value as the reader reads it: labels for enum values,
    a responsible's name, yes/no for flags, dates in the reader's locale."""
    if value is None:
        return ""
    if field in _HISTORY_VALUES:
        return label(value, locale, _HISTORY_VALUES[field])
    if field == "responsible_id" and people is not None and value.isdigit():
        return people.get(int(value), value)
    yes_no = _yes_no(value, locale)  # is_lead, flag custom fields
    if yes_no is not None:
        return yes_no
    if _ISO_DATE.fullmatch(value):  # birthday, date custom fields
        try:
            return format_date(date.fromisoformat(value), locale)
        except ValueError:
            return value
    return value


def channel_field(key: str, locale: str | None) -> str:
    found = CHANNEL_FIELDS.get(key)
    return text(found, locale) if found is not None else key


def channel_value(key: str, value: Any, locale: str | None) -> str:
    if key in _CHANNEL_VALUES:
        return label(str(value), locale, _CHANNEL_VALUES[key])
    yes_no = _yes_no(value, locale)
    return yes_no if yes_no is not None else str(value)
