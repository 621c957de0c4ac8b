"""Mail servers for the email tests: one real Dovecot (IMAP) for the session, a fresh
mailbox and an aiosmtpd SMTP server per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.dovecot import Dovecot, start_dovecot
from tests.fakes.smtp_server import SmtpServer

EMAIL_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"
PASSWORD = "s3cret pass"
REFUSED = "gone@example.org"  # the SMTP server refuses this recipient


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    server = start_dovecot()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def address(dovecot: Dovecot) -> str:
    """A fresh mailbox for each test."""
    mailbox = f"shop-{uuid.uuid4().hex[:8]}@example.com"
    dovecot.add_user(mailbox, PASSWORD)
    return mailbox


@pytest.fixture
def smtp(address: str) -> Iterator[SmtpServer]:
    with SmtpServer(user=address, password=PASSWORD, refuse={REFUSED}) as server:
        yield server
