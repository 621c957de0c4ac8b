"""`/mailings` in the manager bot: a head sees the started mailings' progress and results;
a manager is told it is not theirs."""

from __future__ import annotations

from crm import channels
from crm.mailings import service
from crm.mailings.audience import Audience
from crm.models import ChannelIdentity, Conversation, Role
from tests.bot.conftest import BotHarness, bound_manager
from tests.bot.report_helpers import bind
from tests.crm import factories

HEAD, SELLER = 710001, 710002


def texts(harness: BotHarness, chat_id: int) -> list[str]:
    return [
        c.params["text"]
        for c in harness.api.calls_to("sendMessage")
        if c.params["chat_id"] == chat_id
    ]


async def test_heads_see_progress_and_managers_are_refused(harness: BotHarness) -> None:
    admin = await factories.admin()
    head = await bind(await factories.manager(full_name="Глава"), HEAD, role=Role.HEAD, locale="ru")
    channel = await channels.create_channel(
        kind="telegram",
        name="Бот",
        credentials={"token": "1:abc"},
        actor=admin,
        api_base="http://127.0.0.1:9",
    )
    client = await factories.client(admin, "Ирина")
    identity = await ChannelIdentity.create(channel=channel, external_id="7", client=client)
    await Conversation.create(channel=channel, identity=identity, client=client)
    await harness.send(HEAD, "/mailings")
    assert "Рассылок ещё не запускали" in texts(harness, HEAD)[-1]
    mailing = await service.save_draft(
        service.Draft(
            name="Акция <скидки>", text="Привет", audience=Audience(client_ids=(client.id,))
        ),
        actor=head,
    )
    await service.start(mailing.id, actor=head)
    await harness.send(HEAD, "/mailings")
    shown = texts(harness, HEAD)[-1]
    assert "Акция &lt;скидки&gt;" in shown and "Получателей 1" in shown and "ждут 1" in shown
    await bound_manager(SELLER)
    await harness.send(SELLER, "/mailings")
    assert "heads of sales and admins" in texts(harness, SELLER)[-1]
