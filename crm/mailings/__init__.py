"""Mailings: consent and opt-out (consent), who a mailing reaches (audience, rules), the
mailing itself (templates, schedule, service) and its results; sent by `inbox.mailer`."""
