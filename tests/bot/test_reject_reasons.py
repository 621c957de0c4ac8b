"""Reject never dead-ends: a fresh install has default rejection reasons (in the company's
language), and with none configured Reject still rejects, without a reason."""

from __future__ import annotations

from crm import demo, scenarios
from crm.models import Channel, Inquiry, InquiryStatus, Interest, Reason, ReasonKind, User
from crm.onboarding import Onboarding, onboard
from tests.bot.conftest import BotHarness, bound_manager, buttons, customer_writes

BORIS = 660002


async def test_without_reasons_reject_still_rejects(harness: BotHarness, shop: Channel) -> None:
    assert not await Reason.filter(kind=ReasonKind.REJECTION).exists()
    await bound_manager(BORIS, full_name="Boris")
    await customer_writes(shop, "buy cheap followers")
    await harness.notifier.drain()
    card = harness.last_to(BORIS)

    await harness.press(BORIS, card, "Reject")
    assert [b["text"] for b in buttons(harness.current(card))] == [
        "🚫 Reject without a reason",
        "« Back",
    ]
    await harness.press(BORIS, card, "without a reason")
    inquiry = await Inquiry.get()
    assert inquiry.status == InquiryStatus.REJECTED
    assert inquiry.rejection_reason_id is None  # type: ignore[attr-defined]
    assert not await Interest.exists()
    text = harness.current(card)["text"]
    assert "Rejected by Boris" in text and "Rejected by Boris:" not in text


async def test_onboarding_creates_default_reasons_in_the_company_language(db: object) -> None:
    await onboard(
        Onboarding(
            company_kind="legal",
            inn="7707083893",
            company_name="ООО Ромашка",
            org_form="ООО",
            admin_name="Ирина",
            admin_email="irina@example.com",
            admin_phone="",
            password="correct horse battery",
            locale="ru",
        )
    )
    listed = [r.text for r in await scenarios.reasons(ReasonKind.REJECTION)]
    assert listed == ["Спам", "Не наш клиент", "Дубликат", "Не тот канал"]
    admin = await User.get(email="irina@example.com")
    # admins edit the list; an emptied list stays empty (defaults come only once)
    for reason in await scenarios.reasons(ReasonKind.REJECTION):
        await scenarios.retire_reason(reason.id, actor=admin)
    assert await scenarios.add_default_rejection_reasons("ru") == 0
    assert await scenarios.reasons(ReasonKind.REJECTION) == []


async def test_demo_data_has_default_rejection_reasons(db: object) -> None:
    await demo.generate(0, seed=1)
    assert len(await scenarios.reasons(ReasonKind.REJECTION)) == 4
    await demo.generate(0, seed=2)  # a second run adds nothing
    assert await Reason.filter(kind=ReasonKind.REJECTION).count() == 4
