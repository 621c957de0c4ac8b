"""Parsing raw mail into InboundMessage, building replies, provider settings."""

from __future__ import annotations

import base64
import email
import email.policy
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest

from inbox.channels.base import InboundMessage
from inbox.channels.email_compose import build_message, build_reply, reply_subject
from inbox.channels.email_mime import (
    MAX_REFERENCES,
    decode_bytes,
    decode_header_text,
    extract_attachments,
    html_to_text,
    parse_email,
)
from inbox.channels.email_providers import detect

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"
MSK = timezone(timedelta(hours=3))


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(name: str) -> InboundMessage:
    return parse_email(raw(name))


def reparse(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.eml")), ids=lambda p: p.name)
def test_every_fixture_parses(path: Path) -> None:
    message = parse_email(path.read_bytes())
    assert message.source_id and "<" not in message.source_id
    assert message.external_user_id == message.email
    assert message.text
    assert message.sent_at.tzinfo is not None
    assert "\ufffd" not in message.text + str(message.meta["subject"])


def test_plain_utf8() -> None:
    message = parse("plain_utf8.eml")
    assert message.source_id == "1736838901.123456@mail.yandex.ru"
    assert message.external_user_id == "anna.smirnova@yandex.ru"  # lowercased
    assert message.profile_name == "Анна Смирнова"
    assert message.text.startswith("Здравствуйте!\n\nХочу заказать 10 коробок конфет «Ласточка»")
    assert message.text.endswith("Анна Смирнова\n+7 912 345-67-89")
    assert message.sent_at == datetime(2025, 1, 14, 10, 15, 1, tzinfo=MSK)
    assert message.meta["subject"] == "Заказ конфет к пятнице"
    assert message.meta["to"] == ["sales@shop.example.ru"]
    assert message.meta["date"] == "2025-01-14T10:15:01+03:00"
    assert message.thread_ids == ()
    assert message.attachments == ()


def test_windows_1251() -> None:
    message = parse("cp1251.eml")
    assert message.profile_name == "Пётр Иванов"
    assert message.meta["subject"] == "Счёт по договору"
    assert "Прошу выставить счёт на оплату по договору № 45/2024." in message.text
    assert message.text.endswith("С уважением,\nПётр Иванов\nООО «Ромашка»")


def test_koi8_r_with_encoded_word_subject() -> None:
    message = parse("koi8r.eml")
    assert message.meta["subject"] == "Встреча в четверг"
    assert message.profile_name == "Елена Кузнецова"
    assert "Напоминаю о встрече в четверг в 15:00." in message.text
    assert message.meta["cc"] == ["buh@old-server.ru"]


def test_html_only_becomes_text() -> None:
    message = parse("html_only.eml")
    assert message.text == (
        "Добрый вечер!\n\n"
        'Интересует оптовая цена на товар «Чай зелёный» & "Кофе".\n'
        "Объём: 200 кг.\n\n"
        "- Чай зелёный\n- Кофе молотый\n\n"
        "Каталог: по ссылке (https://example.org/catalog)\n\n"
        "--\nОльга"
    )


def test_alternative_prefers_plain_text() -> None:
    message = parse("alternative.eml")
    assert message.text == "Привет!\n\nСпасибо за быструю доставку, всё пришло целым.\n\nИгорь"
    assert message.sent_at.utcoffset() == timedelta(hours=5)


def test_mixed_with_pdf_and_jpeg() -> None:
    message = parse("mixed_attachments.eml")
    assert message.text == "Добрый день!\n\nВысылаю счёт и фото повреждённой упаковки.\n\nМарина"
    pdf, photo = message.attachments
    assert (pdf.kind, pdf.name, pdf.mime) == ("file", "Счёт №15.pdf", "application/pdf")
    assert (photo.kind, photo.name, photo.mime) == ("photo", "IMG_2041.jpg", "image/jpeg")
    extracted = extract_attachments(raw("mixed_attachments.eml"))
    assert [attachment for attachment, _ in extracted] == list(message.attachments)
    (_, pdf_bytes), (_, jpeg_bytes) = extracted
    assert pdf_bytes.startswith(b"%PDF-1.4") and pdf.size == len(pdf_bytes)
    assert jpeg_bytes.startswith(b"\xff\xd8") and jpeg_bytes.endswith(b"\xff\xd9")
    assert photo.size == len(jpeg_bytes)


def test_reply_threading_ids() -> None:
    message = parse("reply.eml")
    assert message.meta["in_reply_to"] == "173684.reply-1@shop.example.ru"
    assert message.meta["references"] == [
        "1736838901.123456@mail.yandex.ru",
        "173684.reply-1@shop.example.ru",
    ]
    assert message.thread_ids == (
        "173684.reply-1@shop.example.ru",
        "1736838901.123456@mail.yandex.ru",
    )
    assert message.meta["subject"] == "Re: Заказ конфет к пятнице"
    assert "> Когда удобно принять заказ?" in message.text  # history is kept


def test_missing_message_id_is_synthesized_stably() -> None:
    first, second = parse("no_message_id.eml"), parse("no_message_id.eml")
    assert first.source_id == second.source_id
    assert first.source_id.endswith("@crmhub.invalid")
    assert first.meta["message_id"] == ""
    assert first.external_user_id == "john@example.com"
    other = parse_email(raw("no_message_id.eml").replace(b"tomorrow", b"today"))
    assert other.source_id != first.source_id


def test_unknown_charset_and_raw_8bit_subject() -> None:
    message = parse("broken_charset.eml")
    assert message.meta["subject"] == "Перезвоните"
    assert message.text == "Добрый день!\nНе могу дозвониться, перезвоните мне.\nСергей"


def test_declared_charset_that_lies() -> None:
    body = "Цена устраивает, жду счёт.".encode("cp1251")
    message = parse_email(
        b"From: a@b.ru\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body
    )
    assert message.text == "Цена устраивает, жду счёт."


@pytest.mark.parametrize("codec", ["cp1251", "koi8-r"])
def test_undeclared_russian_charsets_are_told_apart(codec: str) -> None:
    text = "Здравствуйте, когда будет доставка?"
    assert decode_bytes(text.encode(codec)) == text


def test_encoded_words() -> None:
    utf8 = "Привет".encode()
    split = (  # one Cyrillic letter split across two encoded-words
        f"=?utf-8?B?{base64.b64encode(utf8[:3]).decode()}?=\r\n "
        f"=?utf-8?B?{base64.b64encode(utf8[3:]).decode()}?="
    )
    assert decode_header_text(split) == "Привет"
    assert decode_header_text("=?utf-8?Q?=D0=94=D0=B0_=D0=BD=D0=B5=D1=82?= ok") == "Да нет ok"
    assert decode_header_text("=?x-nobody?B?0JTQsA==?=") == "Да"  # unknown charset
    assert decode_header_text("=?UTF-8*ru?B?0JTQsA?=") == "Да"  # RFC 2231 language, no padding
    assert decode_header_text("plain text") == "plain text"


def test_html_to_text_drops_scripts_styles_and_head() -> None:
    html = (
        "<html><head><title>T</title><style>b{}</style></head><body>"
        "<script>var a = '<p>no</p>';</script>"
        "<p>One&nbsp;&lt;two&gt;</p><div>Three<br>Four<br><br>Five</div>"
        "<table><tr><td>a</td><td>b</td></tr></table></body></html>"
    )
    assert html_to_text(html) == "One <two>\n\nThree\nFour\n\nFive\n\na b"


def test_date_fallbacks() -> None:
    received = datetime(2025, 2, 1, 12, 0, tzinfo=UTC)
    no_date = parse_email(b"From: a@b.c\r\n\r\nhi", received_at=received)
    assert no_date.sent_at == received and no_date.meta["date"] == ""
    garbage = parse_email(b"From: a@b.c\r\nDate: yesterday\r\n\r\nhi", received_at=received)
    assert garbage.sent_at == received
    unknown_zone = parse_email(b"From: a@b.c\r\nDate: Sat, 1 Feb 2025 10:00:00 -0000\r\n\r\nhi")
    assert unknown_zone.sent_at == datetime(2025, 2, 1, 10, 0, tzinfo=UTC)


def test_no_sender_is_unparsable() -> None:
    with pytest.raises(ValueError, match="sender"):
        parse_email(b"Subject: who?\r\n\r\nhi")


def test_automatic_mail_is_flagged() -> None:
    auto = parse_email(b"From: a@b.c\r\nAuto-Submitted: auto-replied\r\n\r\nI am on leave")
    assert auto.meta["automatic"] is True
    assert parse("plain_utf8.eml").meta["automatic"] is False


# -- outgoing ---------------------------------------------------------------------------------


def test_build_message_headers_and_body() -> None:
    message = build_message(
        "Магазин «Сладости»",
        "sales@shop.example.ru",
        "anna.smirnova@yandex.ru",
        "Заказ конфет",
        "Анна, добрый день!\nЦена — 12 500 руб.",
        in_reply_to="<1736838901.123456@mail.yandex.ru>",
        references=["root@shop.example.ru"],
    )
    wire = message.as_bytes()
    assert wire.isascii()  # encoded-words and base64/qp: fine for servers without 8BITMIME
    assert b"=?utf-8?" in wire.split(b"\r\n\r\n", 1)[0]
    parsed = reparse(message)
    assert parsed["From"].addresses[0].display_name == "Магазин «Сладости»"
    assert parsed["From"].addresses[0].addr_spec == "sales@shop.example.ru"
    assert parsed["Message-ID"].endswith("@shop.example.ru>")
    assert parsed["In-Reply-To"] == "<1736838901.123456@mail.yandex.ru>"
    assert parsed["References"] == "<root@shop.example.ru> <1736838901.123456@mail.yandex.ru>"
    assert parsed["Subject"] == "Заказ конфет"
    assert parsed.get_content_charset() == "utf-8"
    content = parsed.get_content()
    assert isinstance(content, str)
    assert content.replace("\r\n", "\n").strip() == "Анна, добрый день!\nЦена — 12 500 руб."


def test_build_message_ids_are_unique_and_on_the_chosen_domain() -> None:
    ids = {
        build_message("", "a@b.ru", "c@d.ru", "s", "t", message_id_domain="crm.example")[
            "Message-ID"
        ]
        for _ in range(5)
    }
    assert len(ids) == 5
    assert all(value.endswith("@crm.example>") for value in ids)


def test_long_reference_chains_are_trimmed() -> None:
    references = [f"r{n}@x" for n in range(40)]
    message = build_message("", "a@b.ru", "c@d.ru", "s", "t", "r40@x", references)
    ids = str(message["References"]).split()
    assert len(ids) == MAX_REFERENCES
    assert ids[0] == "<r0@x>" and ids[-1] == "<r40@x>"


def test_build_reply_threads_after_the_original() -> None:
    original = parse("reply.eml")
    reply = reparse(
        build_reply(
            original, sender_name="Магазин", sender_address="sales@shop.example.ru", text="Ок"
        )
    )
    assert reply["Subject"] == "Re: Заказ конфет к пятнице"  # no second "Re:"
    assert reply["To"] == "anna.smirnova@yandex.ru"
    assert reply["In-Reply-To"] == "<1736848964.654321@mail.yandex.ru>"
    assert reply["References"].split() == [
        "<1736838901.123456@mail.yandex.ru>",
        "<173684.reply-1@shop.example.ru>",
        "<1736848964.654321@mail.yandex.ru>",
    ]
    answer = parse_email(reply.as_bytes())
    assert answer.thread_ids[0] == original.source_id
    assert answer.profile_name == "Магазин"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Заказ", "Re: Заказ"),
        ("Re: Заказ", "Re: Заказ"),
        ("RE: Заказ", "RE: Заказ"),
        ("re[2]: Заказ", "re[2]: Заказ"),
        ("Ответ: Заказ", "Ответ: Заказ"),
        ("AW: Angebot", "AW: Angebot"),
        ("Fwd: Заказ", "Re: Fwd: Заказ"),
        ("", "Re:"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


# -- providers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "imap", "smtp", "smtp_ssl", "starttls"),
    [
        ("Anna@Yandex.ru", ("imap.yandex.ru", 993), ("smtp.yandex.ru", 465), True, False),
        ("anna@ya.ru", ("imap.yandex.ru", 993), ("smtp.yandex.ru", 465), True, False),
        ("anna@yandex.com", ("imap.yandex.ru", 993), ("smtp.yandex.ru", 465), True, False),
        ("p@mail.ru", ("imap.mail.ru", 993), ("smtp.mail.ru", 465), True, False),
        ("p@bk.ru", ("imap.mail.ru", 993), ("smtp.mail.ru", 465), True, False),
        ("p@list.ru", ("imap.mail.ru", 993), ("smtp.mail.ru", 465), True, False),
        ("p@inbox.ru", ("imap.mail.ru", 993), ("smtp.mail.ru", 465), True, False),
        ("p@internet.ru", ("imap.mail.ru", 993), ("smtp.mail.ru", 465), True, False),
        ("o@gmail.com", ("imap.gmail.com", 993), ("smtp.gmail.com", 465), True, False),
        ("o@googlemail.com", ("imap.gmail.com", 993), ("smtp.gmail.com", 465), True, False),
        (
            "j@outlook.com",
            ("outlook.office365.com", 993),
            ("smtp-mail.outlook.com", 587),
            False,
            True,
        ),
        (
            "j@hotmail.com",
            ("outlook.office365.com", 993),
            ("smtp-mail.outlook.com", 587),
            False,
            True,
        ),
        ("j@live.com", ("outlook.office365.com", 993), ("smtp-mail.outlook.com", 587), False, True),
    ],
)
def test_detect_known_providers(
    address: str, imap: tuple[str, int], smtp: tuple[str, int], smtp_ssl: bool, starttls: bool
) -> None:
    settings = detect(address)
    assert (settings.imap_host, settings.imap_port, settings.imap_ssl) == (*imap, True)
    assert (settings.smtp_host, settings.smtp_port) == smtp
    assert (settings.smtp_ssl, settings.smtp_starttls) == (smtp_ssl, starttls)
    assert settings.guessed is False


def test_detect_unknown_domain_is_a_guess() -> None:
    settings = detect("info@Shop.Example.RU")
    assert (settings.imap_host, settings.imap_port) == ("imap.shop.example.ru", 993)
    assert (settings.smtp_host, settings.smtp_port) == ("smtp.shop.example.ru", 465)
    assert settings.smtp_ssl and not settings.smtp_starttls
    assert settings.guessed is True


def test_detect_rejects_non_addresses() -> None:
    with pytest.raises(ValueError, match="not an email address"):
        detect("no-at-sign")
