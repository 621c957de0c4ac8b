"""A deal opened from an inquiry is titled by where the customer wrote and the first words
they wrote ("Telegram: Хочу купить диван…"), not by the client's name the card shows anyway."""

from __future__ import annotations

from datetime import UTC, datetime

from crm import channels, inquiries
from crm.inquiries import inquiry_title
from crm.models import ChannelKind, Inquiry
from inbox import hub
from inbox.channels.base import InboundMessage
from tests.crm import factories


def test_the_title_is_the_channel_and_the_first_words() -> None:
    assert inquiry_title("telegram", "  Хочу\n купить   диван ", "Ринат") == (
        "Telegram: Хочу купить диван"
    )
    long = "Здравствуйте, подскажите, пожалуйста, есть ли у вас угловые диваны в наличии?"
    assert inquiry_title(ChannelKind.VK, long, "Ринат") == (
        "VK: Здравствуйте, подскажите, пожалуйста…"
    )
    assert inquiry_title("viber", "x" * 100, "Ринат") == "Viber: " + "x" * 40 + "…"
    assert inquiry_title("viber", "", "Ринат Хабибуллин") == "Viber: Ринат Хабибуллин"


async def test_an_email_inquiry_takes_its_subject(db: object) -> None:
    admin = await factories.admin()
    manager = await factories.manager()
    await factories.scenario(require_next_step=False)
    mailbox = await channels.create_channel(
        kind="email",
        name="Почта магазина",
        credentials={"password": "app-password"},
        settings={"address": "shop@example.ru"},
        actor=admin,
    )
    await hub.ingest(
        mailbox,
        InboundMessage(
            source_id="<1@example.ru>",
            external_user_id="rinat@example.ru",
            text="Добрый день! Пришлите, пожалуйста, прайс.",
            sent_at=datetime.now(UTC),
            profile_name="Ринат Хабибуллин",
            meta={"subject": "Прайс на диваны"},
        ),
    )
    interest = await inquiries.accept_inquiry((await Inquiry.get()).id, actor=manager)
    assert interest.title == "E-mail: Прайс на диваны"
