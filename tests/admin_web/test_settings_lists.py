"""Settings, tags and reason lists."""

from __future__ import annotations

import re
from datetime import time

from crm.models import Company, Reason, ReasonKind, Role, Tag, User
from tests.admin_web.conftest import Browser

VALID = {
    "name": "Ромашка",
    "inn": "7707083893",
    "org_form": "ООО",
    "business_kind": "retail",
    "employees": "15",
    "default_locale": "ru",
    "default_timezone": "Asia/Yekaterinburg",
    "work_day_start": "09:00",
    "work_day_end": "18:30",
    "client_visibility": "all",
    "reminder_lead_minutes": "30",
}


async def test_settings_are_saved(as_admin: Browser) -> None:
    status, text = await as_admin.get("/settings")
    assert status == 200
    status, text = await as_admin.post("/settings", VALID)
    assert status == 200 and "Settings saved" in text
    company = await Company.get(id=1)
    assert company.default_timezone == "Asia/Yekaterinburg"
    assert company.clients_visible_to_all is True
    assert company.reminder_lead_minutes == 30
    assert company.work_day_start and company.work_day_end
    assert company.work_day_start.replace(tzinfo=None) == time(9)
    assert company.work_day_end.replace(tzinfo=None) == time(18, 30)
    assert company.employees == 15
    assert '<option value="Asia/Yekaterinburg" selected>UTC+05:00 Yekaterinburg</option>' in text
    # the zones are a list to pick from, Russia's by their offset, in the reader's words
    await User.filter(role=Role.ADMIN).update(locale="ru")
    _, text = await as_admin.get("/settings")
    zones = re.findall(r'<option value="([A-Za-z/_]+)"[^>]*>(UTC[^<]*)</option>', text)
    assert zones[0] == ("Europe/Kaliningrad", "UTC+02:00 Калининград")
    assert ("Europe/Moscow", "UTC+03:00 Москва") in zones
    assert ("Asia/Kamchatka", "UTC+12:00 Петропавловск-Камчатский") in zones
    assert ("UTC", "UTC+00:00") in zones
    # a zone outside the list, set through the API or before, stays offered and selected
    await Company.filter(id=1).update(default_timezone="America/New_York")
    _, text = await as_admin.get("/settings")
    assert '<option value="America/New_York" selected>UTC' in text


async def test_invalid_settings_write_nothing(as_admin: Browser) -> None:
    await as_admin.post("/settings", VALID)
    for bad, message in (
        ({"default_timezone": "Mars/Olympus"}, "Unknown time zone: Mars/Olympus"),
        ({"reminder_lead_minutes": "99999"}, "Must be between 0 and 10080 minutes"),
        ({"reminder_lead_minutes": "soon"}, "Not a number"),
        ({"work_day_start": "25:99"}, "Not a time of day"),
        ({"inn": "123"}, "INN must have"),
    ):
        _status, text = await as_admin.post("/settings", {**VALID, "name": "Changed", **bad})
        assert message in text, bad
        assert (await Company.get(id=1)).name == "Ромашка"


async def test_settings_without_csrf_are_refused(as_admin: Browser) -> None:
    status, text = await as_admin.post("/settings", {**VALID, "name": "X"}, csrf=False)
    assert status == 403 and "form has expired" in text
    assert await Company.filter(name="X").count() == 0


async def test_tags(as_admin: Browser) -> None:
    status, text = await as_admin.post("/tags", {"name": "  VIP   клиент "})
    assert "Tag “VIP клиент” added" in text
    tag = await Tag.get(name="VIP клиент")
    status, text = await as_admin.post("/tags", {"name": "VIP клиент"})
    assert "This name is already taken" in text
    assert await Tag.all().count() == 1
    await as_admin.post(f"/tags/{tag.id}/rename", {"name": "VIP"})
    assert (await Tag.get(id=tag.id)).name == "VIP"
    status, text = await as_admin.post("/tags/999/rename", {"name": "x"})
    assert status == 200 and "Not found" in text
    await as_admin.post(f"/tags/{tag.id}/delete")
    assert not await Tag.exists()


async def test_reasons(as_admin: Browser) -> None:
    await as_admin.post("/reasons/loss", {"text": "Дорого"})
    await as_admin.post("/reasons/rejection", {"text": "Спам"})
    _, text = await as_admin.get("/reasons")
    assert "Дорого" in text and "Спам" in text
    _, text = await as_admin.post("/reasons/loss", {"text": ""})
    assert "Required" in text
    _status, text = await as_admin.post("/reasons/bogus", {"text": "x"})
    assert "Not found" in text
    reason = await Reason.get(text="Дорого")
    await as_admin.post(f"/reasons/{reason.id}/retire")
    assert not (await Reason.get(id=reason.id)).is_active
    assert await Reason.filter(kind=ReasonKind.LOSS, is_active=True).count() == 0


async def test_working_calendar_and_reply_target_are_edited(as_admin: Browser) -> None:
    _, text = await as_admin.get("/settings")
    assert 'name="work_days" value="5" checked' in text
    assert 'name="work_days" value="6">' in text
    calendar = [("work_days", d) for d in ("1", "2", "3", "4", "6")]
    data = [*VALID.items(), ("calendar", "1"), *calendar]
    data += [("holidays", "2026-01-07\n2026-01-02"), ("sla_first_reply_minutes", "20")]
    _, text = await as_admin.post("/settings", data)
    assert "Settings saved" in text
    company = await Company.get(id=1)
    assert (company.work_days, company.holidays) == ("12346", ["2026-01-02", "2026-01-07"])
    assert company.sla_first_reply_minutes == 20
    assert "2026-01-02\n2026-01-07</textarea>" in text
    _, text = await as_admin.post(
        "/settings", [*VALID.items(), ("calendar", "1"), ("holidays", "7 January")]
    )
    assert "Choose at least one working day" in text
    assert (await Company.get(id=1)).work_days == "12346"
