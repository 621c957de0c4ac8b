"""Business regions of Russia and their IANA timezones (the client's local time)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from crm.errors import ValidationFailed
from crm.i18n import N_

REGION_TIMEZONES: dict[str, str] = {
    "Москва": "Europe/Moscow",
    "Московская область": "Europe/Moscow",
    "Санкт-Петербург": "Europe/Moscow",
    "Ленинградская область": "Europe/Moscow",
    "Нижегородская область": "Europe/Moscow",
    "Краснодарский край": "Europe/Moscow",
    "Ростовская область": "Europe/Moscow",
    "Республика Татарстан": "Europe/Moscow",
    "Воронежская область": "Europe/Moscow",
    "Калининградская область": "Europe/Kaliningrad",
    "Самарская область": "Europe/Samara",
    "Удмуртская Республика": "Europe/Samara",
    "Саратовская область": "Europe/Saratov",
    "Волгоградская область": "Europe/Volgograd",
    "Астраханская область": "Europe/Astrakhan",
    "Ульяновская область": "Europe/Ulyanovsk",
    "Свердловская область": "Asia/Yekaterinburg",
    "Челябинская область": "Asia/Yekaterinburg",
    "Пермский край": "Asia/Yekaterinburg",
    "Республика Башкортостан": "Asia/Yekaterinburg",
    "Тюменская область": "Asia/Yekaterinburg",
    "Омская область": "Asia/Omsk",
    "Новосибирская область": "Asia/Novosibirsk",
    "Томская область": "Asia/Tomsk",
    "Алтайский край": "Asia/Barnaul",
    "Кемеровская область": "Asia/Novokuznetsk",
    "Красноярский край": "Asia/Krasnoyarsk",
    "Иркутская область": "Asia/Irkutsk",
    "Республика Бурятия": "Asia/Irkutsk",
    "Забайкальский край": "Asia/Chita",
    "Республика Саха (Якутия)": "Asia/Yakutsk",
    "Амурская область": "Asia/Yakutsk",
    "Приморский край": "Asia/Vladivostok",
    "Хабаровский край": "Asia/Vladivostok",
    "Сахалинская область": "Asia/Sakhalin",
    "Магаданская область": "Asia/Magadan",
    "Камчатский край": "Asia/Kamchatka",
    "Чукотский автономный округ": "Asia/Anadyr",
}


def check_timezone(tz: str, *, field: str = "timezone") -> str:
    if tz not in available_timezones():
        raise ValidationFailed.field(field, N_("Unknown time zone: {value}"), value=tz)
    return tz


def timezone_for(region: str, explicit: str | None, default: str) -> str:
    """The client's timezone: set explicitly, else from the business region, else default."""
    if explicit:
        return check_timezone(explicit)
    return REGION_TIMEZONES.get(region.strip(), default)


def local_time(tz: str, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(tz))
