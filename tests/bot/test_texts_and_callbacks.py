"""HTML escaping and splitting at Telegram's limit; signed callback data."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import MAX_DATA, Pressed, Signer
from bot.texts import LIMIT, Quote, fit, pack, visible_length
from tests.fakes.telegram_api import parse_html


def test_pack_keeps_short_parts_in_one_message() -> None:
    assert pack(["<b>Title</b>", Quote("a < b & c")]) == ["<b>Title</b>\n<i>a &lt; b &amp; c</i>"]


def test_a_long_quote_is_split_at_spaces_and_every_message_parses() -> None:
    words = " ".join(f"w{n}&<x>" for n in range(3000))
    messages = pack(["<b>Header</b>", Quote(words), "footer"])
    assert len(messages) > 1
    for message in messages:
        assert visible_length(message) <= LIMIT
        parse_html(message)  # raises like Telegram would on broken markup
    plain = " ".join(html.unescape(re.sub(r"<[^>]+>", "", m)) for m in messages)
    assert plain.split() == ["Header", *words.split(), "footer"]


def test_astral_characters_count_twice() -> None:
    text = "😀" * 3000  # 6,000 UTF-16 units
    messages = pack([Quote(text, tag="")])
    assert [visible_length(m) for m in messages] == [4096, 1904]


def test_fit_shortens_quotes_for_an_edited_card() -> None:
    card = fit(["<b>Taken</b>", Quote("x" * 10_000)], quote_room=100)
    assert visible_length(card) < 200 and card.endswith("…</i>")


@given(st.text(min_size=0, max_size=9000))
def test_any_customer_text_fits_and_parses(text: str) -> None:
    for message in pack(["<b>Card</b>", Quote(text), "end"]):
        assert visible_length(message) <= LIMIT
        parse_html(message)


def test_signed_data_round_trips_for_its_user_only() -> None:
    signer = Signer("secret")
    data = signer.pack(42, "do", 123456789, "e")
    assert len(data.encode()) <= MAX_DATA
    action = signer.unpack(42, data)
    assert action is not None and action.name == "do" and action.int(0) == 123456789
    assert signer.unpack(43, data) is None
    assert signer.unpack(42, data.replace("123456789", "123456788")) is None
    assert Signer("other secret").unpack(42, data) is None
    assert signer.unpack(42, "do|123456789") is None
    assert signer.unpack(42, "") is None


def test_callback_data_is_checked_for_size_and_separators() -> None:
    signer = Signer("secret")
    with pytest.raises(ValueError, match="too long"):
        signer.pack(1, "x", "y" * 60)
    with pytest.raises(ValueError, match="may not contain"):
        signer.pack(1, "x", "a|b")


def test_a_routers_buttons_are_looked_at_only_for_its_own_actions() -> None:
    from aiogram import Router

    from bot.handlers import feature_routers, gate_buttons

    def gate_of(router: Router) -> frozenset[str] | None:
        gates = [f.callback for f in router.callback_query._handler.filters or ()]
        return gates[0].names if gates else None  # type: ignore[attr-defined]

    for router in feature_routers():
        handlers = router.callback_query.handlers
        names = {
            name
            for handler in handlers
            for f in handler.filters or ()
            for name in f.callback.names  # type: ignore[attr-defined]
        }
        assert gate_of(router) == (frozenset(names) if handlers else None), router.name

    async def anything(query: object) -> None: ...

    mixed = Router()
    mixed.callback_query.register(anything, Pressed("a"))
    mixed.callback_query.register(anything)  # not keyed: the router must stay open
    assert gate_of(gate_buttons(mixed)) is None


async def test_a_routers_commands_are_looked_at_only_for_its_own_names() -> None:
    from datetime import UTC, datetime

    from aiogram import Router, types
    from aiogram.filters import Command, StateFilter

    from bot.dialogs.states import Typing
    from bot.handlers import Commands, feature_routers, gate_commands

    def gate_of(router: Router) -> Commands | None:
        gates = [f.callback for f in router.message._handler.filters or ()]
        return gates[0] if gates and isinstance(gates[0], Commands) else None

    gated = {r.name: gate_of(r) for r in feature_routers()}
    assert gated["bot.handlers.agenda"] is not None
    assert gated["bot.handlers.agenda"].names == {"today"}
    assert gated["bot.handlers.start"] is not None
    assert {"start", "help", "cancel", "lang"} <= gated["bot.handlers.start"].names
    # a typed note or a reply to a card is taken there: those routers stay open
    assert gated["bot.handlers.deals"] is None and gated["bot.handlers.inbox"] is None

    today = gated["bot.handlers.agenda"]
    chat = types.Chat(id=1, type="private")

    def message(text: str | None = None, caption: str | None = None) -> types.Message:
        return types.Message(
            message_id=1, date=datetime.now(UTC), chat=chat, text=text, caption=caption
        )

    for passing in ("/today", "/today tomorrow", "/Today@shop_bot"):  # Command decides then
        assert await today(message(passing)), passing
    assert await today(message(caption="/today"))
    for refused in ("/deals", "today", "/", "/ today"):
        assert not await today(message(refused)), refused

    async def anything(message: object) -> None: ...

    mixed = Router()
    mixed.message.register(anything, Command("x"))
    mixed.message.register(anything, StateFilter(Typing.note))  # not keyed by a command
    assert gate_of(gate_commands(mixed)) is None
