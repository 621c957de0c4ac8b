"""The feed (order, struck-through cancelled ones with Restore, kind filter, whole client),
`/today` in the manager's timezone, and `/client` search with the client card."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from crm import clients, deals, fields, interactions
from crm.interactions import Plan, plan_interaction
from crm.models import Interaction, InteractionKind, InteractionState, User
from tests.bot.conftest import BotHarness, bound_manager, buttons
from tests.crm import factories

ANNA = 670001
BORIS = 670002
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


async def test_the_feed_orders_strikes_filters_and_restores(harness: BotHarness) -> None:
    with time_machine.travel(NOW, tick=True):
        await factories.scenario(require_next_step=False)
        anna = await bound_manager(ANNA)
        client = await factories.client(anna, name="Lotus")
        deal = await deals.create_interest(actor=anna, client_id=client.id, title="Kitchen")
        other = await deals.create_interest(actor=anna, client_id=client.id, title="Hall")
        soon = await plan_interaction(
            Plan(kind="call", planned_at=NOW + timedelta(days=1), subject="Soon call"),
            actor=anna,
            interest_id=deal.id,
        )
        await plan_interaction(
            Plan(kind="meeting", planned_at=NOW + timedelta(days=3), subject="Later meeting"),
            actor=anna,
            interest_id=deal.id,
        )
        dropped = await plan_interaction(
            Plan(kind="call", planned_at=NOW + timedelta(days=2), subject="Dropped <call>"),
            actor=anna,
            interest_id=deal.id,
        )
        await interactions.cancel_interaction(dropped.id, actor=anna)
        await interactions.record_done(
            actor=anna, kind="note", client_id=client.id, interest_id=deal.id, content="Old note"
        )
        await interactions.record_done(
            actor=anna, kind="note", client_id=client.id, interest_id=other.id, content="Hall note"
        )

        await harness.send(ANNA, "/deals")
        await harness.press(ANNA, harness.last_to(ANNA), "Kitchen")
        await harness.press(ANNA, harness.last_to(ANNA), "Feed")
        feed = harness.last_to(ANNA)
        lines = feed["text"].splitlines()
        assert lines[0] == "📜 Feed: Kitchen"
        assert "Soon call" in lines[1] and "Later meeting" in lines[2]
        assert "Old note" in feed["text"] and "Hall note" not in feed["text"]
        assert "<s>" not in feed["text"]  # the fake keeps the plain text; check the call
        sent = harness.api.calls_to("sendMessage")[-1].params["text"]
        assert "<s>" in sent and "Dropped &lt;call&gt;" in sent

        await harness.press(ANNA, feed, "↺")
        assert (await Interaction.get(id=dropped.id)).state == InteractionState.PLANNED
        assert "↺" not in str(harness.current(feed)["reply_markup"])

        filters = [b["text"] for b in buttons(harness.current(feed))]
        words = ["• All", "📞 Call", "🤝 Meeting", "✉️ Email", "💬 Message", "📱 SMS", "📌 Task"]
        assert [f for f in filters if f in words] == words  # words, not only icons
        await harness.press(ANNA, feed, "📝 Note", exact=True)  # only notes
        filtered = harness.current(feed)["text"]
        assert "Old note" in filtered and "Soon call" not in filtered
        await harness.press(ANNA, feed, "Whole client: off")
        whole = harness.current(feed)["text"]
        assert "Hall note" in whole and "The whole client history" in whole

        await harness.press(ANNA, feed, "All")
        await harness.press(ANNA, feed, "✗ 1")
        assert (await Interaction.get(id=soon.id)).state == InteractionState.CANCELLED


async def test_today_lists_overdue_planned_and_birthdays_in_the_managers_day(
    harness: BotHarness,
) -> None:
    await factories.scenario(require_next_step=False)
    # 23:30 UTC on 1 June is already 2 June in Vladivostok (UTC+10)
    with time_machine.travel(datetime(2026, 6, 1, 23, 30, tzinfo=UTC), tick=True):
        anna = await bound_manager(ANNA, timezone="Asia/Vladivostok")
        lotus = await factories.client(anna, name="Lotus", birthday="1980-06-02")
        await factories.client(anna, name="Not today", birthday="1980-06-01")
        deal = await deals.create_interest(actor=anna, client_id=lotus.id, title="Kitchen")
        late = await plan_interaction(
            Plan(kind="call", planned_at=datetime(2026, 6, 1, 22, 0, tzinfo=UTC), subject="Late"),
            actor=anna,
            interest_id=deal.id,
        )
        await plan_interaction(
            Plan(
                kind="meeting", planned_at=datetime(2026, 6, 2, 5, 0, tzinfo=UTC), subject="Lunch"
            ),
            actor=anna,
            interest_id=deal.id,
        )
        await plan_interaction(
            Plan(
                kind="meeting",
                planned_at=datetime(2026, 6, 2, 15, 0, tzinfo=UTC),
                subject="Tomorrow",
            ),
            actor=anna,
            interest_id=deal.id,
        )
        await harness.send(ANNA, "/today")
        today = harness.last_to(ANNA)
        text = today["text"]
        assert text.startswith("📋 Today, Jun 2, 2026")
        assert (
            text.index("Overdue") < text.index("Late") < text.index("Planned") < text.index("Lunch")
        )
        assert "Tomorrow" not in text
        assert "🎂 Lotus" in text and "Not today" not in text
        await harness.press(ANNA, today, "✓ 1")
        assert (await Interaction.get(id=late.id)).state == InteractionState.DONE


async def test_client_search_and_card_with_custom_fields_and_a_note(
    harness: BotHarness, admin: User
) -> None:
    anna = await bound_manager(ANNA)
    section = await fields.create_section("Logistics", actor=admin)
    city = await fields.create_field(
        name="Delivery city", type="string", section_id=section.id, actor=admin
    )
    vip = await fields.create_field(name="VIP", type="flag", actor=admin)
    lotus = await factories.client(
        anna,
        name="Lotus <Ltd>",
        kind="legal",
        inn="7707083893",
        phones=["+7 912 345-67-89"],
        region="Приморский край",
        custom={city.id: "Kazan & around", vip.id: True},
    )
    await clients.add_person(lotus.id, actor=anna, name="Pavel", role="Director")
    await factories.client(anna, name="Lotus Two")

    await harness.send(ANNA, "/client lotus")
    listing = harness.last_to(ANNA)
    assert [b["text"] for b in buttons(listing)] == [
        "1. Lotus <Ltd> · Приморский край",
        "2. Lotus Two",
    ]
    await harness.press(ANNA, listing, "Lotus <Ltd>")
    card = harness.last_to(ANNA)["text"]
    assert "Lotus <Ltd> · Legal entity" in card
    assert "INN 7707083893" in card and "+79123456789" in card
    assert card.index("Logistics") < card.index("Delivery city: Kazan & around")
    assert "VIP: yes" in card and "Pavel, Director" in card

    await harness.send(ANNA, "/client 7707083893")
    assert "Lotus <Ltd>" in harness.last_to(ANNA)["text"]

    await harness.press(ANNA, harness.last_to(ANNA), "Note")
    await harness.send(ANNA, "Prefers calls after <5pm> & email")
    assert "Note saved." in harness.last_to(ANNA)["text"]
    note = await Interaction.get(kind=InteractionKind.NOTE)
    assert note.client_id == lotus.id and note.content == "Prefers calls after <5pm> & email"  # type: ignore[attr-defined]

    await harness.send(ANNA, "/client nobody-like-this")
    assert "No client matches" in harness.last_to(ANNA)["text"]


async def test_a_task_from_the_client_card(harness: BotHarness) -> None:
    with time_machine.travel(NOW, tick=True):
        anna = await bound_manager(ANNA)
        await factories.client(anna, name="Lotus")
        await harness.send(ANNA, "/client Lotus")
        await harness.press(ANNA, harness.last_to(ANNA), "Task")
        dialog = harness.last_to(ANNA)
        assert "Task: choose the date" in dialog["text"]
        await harness.press(ANNA, dialog, "03", exact=True)
        await harness.press(ANNA, dialog, "12:00", exact=True)
        await harness.send(ANNA, "Send the price list")
        details = harness.last_to(ANNA)
        await harness.press(ANNA, details, "Skip")
        await harness.press(ANNA, details, "Save")
    task = await Interaction.get(kind=InteractionKind.TASK)
    assert task.interest_id is None and task.subject == "Send the price list"  # type: ignore[attr-defined]
    assert task.planned_at == datetime(2026, 6, 3, 9, 0, tzinfo=UTC)  # 12:00 in Moscow


async def test_the_client_card_shows_contacts_responsible_tags_and_persons_to_its_manager_only(
    harness: BotHarness, admin: User
) -> None:
    anna = await bound_manager(ANNA, full_name="Anna <A>")
    await bound_manager(BORIS)
    lotus = await factories.client(
        anna,
        name="Lotus",
        phones=["+7 912 345-67-89"],
        emails=["office@lotus.ru"],
        tags=["wholesale", "vip"],
    )
    await clients.add_person(lotus.id, actor=anna, name="Pavel", role="Director")
    await clients.add_person(lotus.id, actor=anna, name="Olga", email="olga@lotus.ru")

    await harness.send(ANNA, "/client Lotus")
    card = harness.last_to(ANNA)["text"]
    lines = card.split("\n")
    assert lines.index("✉️ office@lotus.ru") < lines.index("📞 +79123456789")
    assert "👔 Responsible: Anna <A>" in lines and "🏷 wholesale, vip" in lines
    assert card.index("Pavel, Director") < card.index("Olga, olga@lotus.ru")

    await harness.send(BORIS, "/client Lotus")
    assert "No client matches" in harness.last_to(BORIS)["text"]
    before = len(harness.sent_to(BORIS))
    signed = harness.signer.pack(BORIS, "co", lotus.id)  # a valid button, someone else's client
    query = await harness.press_data(BORIS, harness.last_to(BORIS), signed)
    assert harness.answer(query).get("text") == "Not found"
    assert len(harness.sent_to(BORIS)) == before
