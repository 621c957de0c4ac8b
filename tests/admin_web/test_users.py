"""Users: invite, edit, deactivate, hand over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from admin_web.keys import SETTINGS
from crm import deals, interactions
from crm.interactions import Plan
from crm.models import ChangeRecord, Client, Interaction, Interest, Invite, Role, User
from tests.admin_web.conftest import Browser, make_user
from tests.crm import factories
from tests.fakes.telegram_api import TelegramAPI


async def test_invite_a_manager_shows_bot_link_and_code(as_admin: Browser) -> None:
    async with TelegramAPI(bot_username="crm_team_bot") as telegram:
        settings = as_admin.app[SETTINGS]
        settings.manager_bot_token = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
        settings.telegram_api_base = telegram.base_url
        await as_admin.get("/users")
        _status, text = await as_admin.post(
            "/users",
            {
                "full_name": "Иван Петров",
                "email": "ivan@example.com",
                "role": "manager",
                "locale": "ru",
                "timezone": "Asia/Novosibirsk",
            },
        )
    assert "Иван Петров is invited" in text
    user = await User.get(email="ivan@example.com")
    assert (user.role, user.timezone, user.password_hash) == (
        Role.MANAGER,
        "Asia/Novosibirsk",
        None,
    )
    invite = await Invite.get(user_id=user.id)
    assert f"https://t.me/crm_team_bot?start={invite.code}" in text
    assert f'<code id="invite-code">{invite.code}</code>' in text


async def test_invite_without_bot_token_shows_the_code(as_admin: Browser) -> None:
    await as_admin.get("/users")
    _status, text = await as_admin.post(
        "/users", {"full_name": "Олег", "email": "oleg@example.com"}
    )
    invite = await Invite.get(user__email="oleg@example.com")
    assert invite.code in text and "t.me" not in text


async def test_invite_validation(as_admin: Browser, manager: User) -> None:
    await as_admin.get("/users")
    for data, message in (
        ({"full_name": "X", "email": manager.email}, "A user with this email already exists"),
        ({"full_name": "", "email": "x@example.com"}, "Required"),
        ({"full_name": "X", "email": "not-an-email"}, "Not an email address"),
        ({"full_name": "X", "email": "x@example.com", "timezone": "Nowhere"}, "Unknown time zone"),
        ({"full_name": "X", "email": "x@example.com", "role": "god"}, "Unknown choice"),
    ):
        _status, text = await as_admin.post("/users", data)
        assert message in text, data
    assert await User.all().count() == 2


async def test_edit_and_deactivate(as_admin: Browser, admin: User, manager: User) -> None:
    await as_admin.get(f"/users/{manager.id}")
    await as_admin.post(
        f"/users/{manager.id}",
        {"full_name": "Иван Иванович", "role": "admin", "locale": "ru", "timezone": "Asia/Omsk"},
    )
    manager = await User.get(id=manager.id)
    assert (manager.full_name, manager.role, manager.timezone) == (
        "Иван Иванович",
        Role.ADMIN,
        "Asia/Omsk",
    )
    status, text = await as_admin.post(f"/users/{manager.id}/deactivate")
    assert "can no longer log in" in text
    assert not (await User.get(id=manager.id)).is_active
    status, text = await as_admin.post(f"/users/{admin.id}/deactivate")
    assert "You cannot deactivate yourself" in text
    assert (await User.get(id=admin.id)).is_active
    status, text = await as_admin.get("/users/9999")
    assert status == 404


async def test_hand_over_a_leaving_manager(as_admin: Browser, admin: User, manager: User) -> None:
    successor = await make_user(Role.MANAGER, full_name="Пётр")
    await factories.scenario(require_next_step=False)
    mine = [await factories.client(manager, name=f"Клиент {i}") for i in range(3)]
    other = await factories.client(successor, name="Чужой")
    interest = await deals.create_interest(actor=manager, client_id=mine[0].id, title="Сделка")
    planned = await interactions.plan_interaction(
        Plan("call", datetime.now(UTC) + timedelta(days=1)), actor=manager, client_id=mine[1].id
    )
    _, text = await as_admin.get(f"/users/{manager.id}")
    assert "Responsible for 3 clients, 1 open interests and 1 planned interactions" in text
    _, text = await as_admin.post(
        f"/users/{manager.id}/handover", {"to_user_id": str(successor.id)}
    )
    assert "Handed over: 3 clients, 1 interests, 1 planned interactions" in text
    assert await Client.filter(responsible_id=successor.id).count() == 4
    assert (await Interest.get(id=interest.id)).responsible_id == successor.id  # type: ignore[attr-defined]
    assert (await Interaction.get(id=planned.id)).responsible_id == successor.id  # type: ignore[attr-defined]
    assert await ChangeRecord.filter(field="responsible_id", entity="client").count() == 3
    assert (await Client.get(id=other.id)).responsible_id == successor.id  # type: ignore[attr-defined]
    # to oneself, or to nobody: refused, nothing moves
    _, text = await as_admin.post(
        f"/users/{successor.id}/handover", {"to_user_id": str(successor.id)}
    )
    assert "Choose another user" in text
    _status, text = await as_admin.post(f"/users/{successor.id}/handover", {"to_user_id": "999"})
    assert "Unknown user" in text
    assert await Client.filter(responsible_id=successor.id).count() == 4


async def test_manager_cannot_manage_users(as_manager: Browser, manager: User) -> None:
    status, _ = await as_manager.get("/users")
    assert status == 403
    status, text = await as_manager.post("/users", {"full_name": "X", "email": "x@example.com"})
    assert "You are not allowed to do this" in text
    status, text = await as_manager.post(f"/users/{manager.id}", {"role": "admin"})
    assert (await User.get(id=manager.id)).role == Role.MANAGER
    assert not await User.filter(email="x@example.com").exists()
