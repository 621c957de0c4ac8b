"""The reader's words for a mailing's stored values (statuses, kinds, channel modes, the
rules' reasons and the results' states); msgids, translated where shown."""

from __future__ import annotations

from crm.i18n import N_, NP_
from crm.labels import Label
from crm.mailings import rules

STATUS: dict[str, Label] = {
    "draft": NP_("mailing status", "Draft"),
    "scheduled": NP_("mailing status", "Sending"),
    "paused": NP_("mailing status", "Paused"),
    "cancelled": NP_("mailing status", "Cancelled"),
    "done": NP_("mailing status", "Done"),
}
KIND: dict[str, Label] = {
    "info": N_("Informational"),
    "ads": N_("Advertising (consent required)"),
    "survey": N_("Survey (questions with answer buttons)"),
}
MODE: dict[str, Label] = {
    "auto": N_("The client's latest messenger, then email"),
    "telegram": N_("Telegram only"),
    "vk": N_("VK only"),
    "viber": N_("Viber only"),
    "email": N_("Email only"),
}
CHANNEL: dict[str, Label] = {
    "telegram": "Telegram",
    "vk": "VK",
    "viber": "Viber",
    "email": N_("Email"),
}
REASON: dict[str, Label] = {
    rules.OPTED_OUT: N_("unsubscribed from mailings"),
    rules.NO_CONSENT: N_("no consent to advertising"),
    rules.NO_CHANNEL: N_("no channel reaches them"),
    rules.NOT_WRITTEN: N_("never wrote to this channel"),
    rules.BLOCKED: N_("blocked the bot"),
    rules.NOT_ALLOWED: N_("messages not allowed"),
    rules.NOT_SUBSCRIBED: N_("not subscribed"),
    rules.EMAIL_ABSENT: N_("no email address"),
    rules.EMAIL_BOUNCED: N_("email address bounced"),
    rules.NO_MAILBOX: N_("no active mailbox"),
    "recipients": N_("recipients"),
    "cancelled": N_("cancelled"),
}
STATE: dict[str, Label] = {
    "queued": NP_("mailing result", "Queued"),
    "sent": NP_("mailing result", "Sent"),
    "delivered": NP_("mailing result", "Delivered"),
    "seen": NP_("mailing result", "Read"),
    "failed": NP_("mailing result", "Failed"),
    "opted_out": NP_("mailing result", "Unsubscribed"),
    "skipped": NP_("mailing result", "Skipped"),
    "cancelled": NP_("mailing result", "Cancelled"),
}
PLACEHOLDER: dict[str, Label] = {
    "client_name": N_("client's name"),
    "client_legal_name": N_("client's legal name"),
    "client_region": N_("client's region"),
    "key_person": N_("key person"),
    "manager_name": N_("manager's name"),
    "manager_phone": N_("manager's phone"),
    "manager_email": N_("manager's email"),
    "company_name": N_("our company"),
}
