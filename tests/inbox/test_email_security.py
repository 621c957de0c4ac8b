"""TLS, STARTTLS or none for a mailbox's IMAP and SMTP: chosen, told from the port, refused
without encryption to another machine, and spoken for real with a loopback Dovecot and
aiosmtpd holding a test CA's certificate."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crm.errors import ValidationFailed
from inbox.channels.base import ChannelConfig, OutboundMessage
from inbox.channels.email import EmailAdapter, mailbox_config
from inbox.channels.email_transport import MailServerError
from tests.fakes.dovecot import Dovecot
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.tls import TestCertificate
from tests.inbox.conftest import PASSWORD


def settings_of(**settings: Any) -> Any:
    return mailbox_config(
        ChannelConfig(1, "email", {"password": "p"}, {"address": "sales@corp.example", **settings})
    )


@pytest.mark.parametrize(
    ("imap_port", "smtp_port", "imap", "smtp"),
    [
        (993, 465, (True, False), (True, False)),
        (143, 587, (False, True), (False, True)),
        (143, 465, (False, True), (True, False)),
        (993, 25, (True, False), (False, True)),
    ],
)
def test_security_is_told_from_the_port(
    imap_port: int, smtp_port: int, imap: tuple[bool, bool], smtp: tuple[bool, bool]
) -> None:
    config = settings_of(imap_port=str(imap_port), smtp_port=smtp_port)
    assert (config.imap_ssl, config.imap_starttls) == imap
    assert (config.smtp_ssl, config.smtp_starttls) == smtp
    assert (config.imap_host, config.smtp_host) == ("imap.corp.example", "smtp.corp.example")


def test_a_chosen_security_wins_and_picks_its_port() -> None:
    config = settings_of(imap_security="starttls", smtp_security="STARTTLS")
    assert (config.imap_port, config.imap_ssl, config.imap_starttls) == (143, False, True)
    assert (config.smtp_port, config.smtp_ssl, config.smtp_starttls) == (587, False, True)
    tls = settings_of(imap_security="tls", imap_port=1993, smtp_security="ssl")
    assert (tls.imap_port, tls.imap_ssl, tls.smtp_port, tls.smtp_ssl) == (1993, True, 465, True)
    known = mailbox_config(ChannelConfig(1, "email", {"password": "p"}, {"address": "a@yandex.ru"}))
    assert (known.imap_port, known.imap_ssl, known.smtp_port, known.smtp_ssl) == (
        993,
        True,
        465,
        True,
    )


@pytest.mark.parametrize("server", ["imap", "smtp"])
def test_no_encryption_is_refused_unless_the_server_is_this_machine(server: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        settings_of(**{f"{server}_security": "none"})
    assert list(refused.value.fields) == [f"{server}_security"]
    assert "in clear" in str(refused.value)
    assert "открытом виде" in refused.value.render("ru")
    with pytest.raises(ValidationFailed):
        settings_of(**{f"{server}_security": "none", f"{server}_host": "10.0.0.5"})
    for host in ("127.0.0.1", "localhost", "::1"):
        local = settings_of(**{f"{server}_security": "none", f"{server}_host": host})
        assert not getattr(local, f"{server}_ssl") and not getattr(local, f"{server}_starttls")
    with pytest.raises(ValidationFailed) as unknown:
        settings_of(**{f"{server}_security": "ssl3"})
    assert list(unknown.value.fields) == [f"{server}_security"]


# -- against real servers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> TestCertificate:
    return TestCertificate.create(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture(scope="module")
def tls_dovecot(certificate: TestCertificate) -> Iterator[Dovecot]:
    server = Dovecot(tls=certificate).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def trusted(certificate: TestCertificate, monkeypatch: pytest.MonkeyPatch) -> TestCertificate:
    """Clients trust the test CA as they trust a public one (certificates still checked)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca_file))
    return certificate


@pytest.fixture
def mailbox(tls_dovecot: Dovecot) -> str:
    address = f"shop-{uuid.uuid4().hex[:8]}@example.com"
    tls_dovecot.add_user(address, PASSWORD)
    return address


async def adapter_check(**settings: Any) -> str:
    adapter = EmailAdapter(
        ChannelConfig(9, "email", {"password": PASSWORD}, {"timeout": 5, **settings})
    )
    try:
        return await adapter.check()
    finally:
        await adapter.close()


@pytest.mark.parametrize(("imap", "smtp"), [("tls", "tls"), ("starttls", "starttls")])
async def test_check_and_send_over_tls_and_starttls(
    trusted: TestCertificate, tls_dovecot: Dovecot, mailbox: str, imap: str, smtp: str
) -> None:
    imap_port = tls_dovecot.tls_port if imap == "tls" else tls_dovecot.port
    with SmtpServer(
        user=mailbox,
        password=PASSWORD,
        tls=trusted.server_context(),
        implicit_tls=smtp == "tls",
    ) as server:
        settings = {
            "address": mailbox,
            "imap_host": "127.0.0.1",
            "imap_port": imap_port,
            "imap_security": imap,
            "smtp_host": "127.0.0.1",
            "smtp_port": server.port,
            "smtp_security": smtp,
        }
        assert await adapter_check(**settings) == mailbox
        adapter = EmailAdapter(ChannelConfig(9, "email", {"password": PASSWORD}, settings))
        try:
            await adapter.send(OutboundMessage(1, "client@example.net", "Здравствуйте"))
            tls_dovecot.deliver(mailbox, b"From: c@example.net\r\nSubject: hi\r\n\r\nbody\r\n")
            polled = await adapter.poll({}, timeout=0)
            assert polled.state["last_uid"] >= 1
        finally:
            await adapter.close()
        assert [m.rcpt_tos for m in server.received] == [("client@example.net",)]
    assert "TLS" in tls_dovecot.log or "tls" in tls_dovecot.log.lower()


async def test_tls_is_really_spoken_an_untrusted_certificate_fails(
    tls_dovecot: Dovecot, mailbox: str, certificate: TestCertificate
) -> None:
    # Without the test CA trusted, both the implicit TLS and the STARTTLS upgrade fail the
    # certificate check: proof that the connection was encrypted, not plain.
    for port, security in ((tls_dovecot.tls_port, "tls"), (tls_dovecot.port, "starttls")):
        with pytest.raises(MailServerError) as failed:
            await adapter_check(
                address=mailbox,
                imap_host="127.0.0.1",
                imap_port=port,
                imap_security=security,
                smtp_host="127.0.0.1",
                smtp_port=1,
            )
        assert failed.value.server == "IMAP"
        assert "CERTIFICATE_VERIFY_FAILED" in str(failed.value) or "certificate" in str(
            failed.value
        )


async def test_starttls_to_a_server_without_it_is_refused(dovecot: Dovecot, address: str) -> None:
    with pytest.raises(MailServerError, match="does not offer STARTTLS") as failed:
        await adapter_check(
            address=address,
            imap_host=dovecot.host,
            imap_port=dovecot.port,
            imap_security="starttls",
            smtp_host="127.0.0.1",
            smtp_port=1,
        )
    assert "imap_host" in failed.value.fields


async def test_an_unreachable_server_is_told_apart_from_a_refusal(
    dovecot: Dovecot, address: str
) -> None:
    with SmtpServer(user=address, password=PASSWORD) as smtp:
        port = smtp.port
    with pytest.raises(MailServerError) as smtp_down:
        await adapter_check(
            address=address,
            imap_host=dovecot.host,
            imap_port=dovecot.port,
            imap_security="none",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
        )
    assert smtp_down.value.unreachable and smtp_down.value.server == "SMTP"
    assert "No connection to the SMTP server 127.0.0.1" in str(smtp_down.value)
    assert "Нет связи с SMTP-сервером 127.0.0.1" in smtp_down.value.render("ru")
    with pytest.raises(MailServerError) as imap_down:
        await adapter_check(
            address=address,
            imap_host=dovecot.host,
            imap_port=port,
            imap_security="none",
            smtp_host="127.0.0.1",
            smtp_port=port,
        )
    assert imap_down.value.unreachable and imap_down.value.server == "IMAP"
