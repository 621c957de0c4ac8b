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


# the zones next to Russia's that a company here most often works with, after Russia's own
NEIGHBOUR_ZONES = (
    "Europe/Minsk",
    "Europe/Istanbul",
    "Asia/Tbilisi",
    "Asia/Yerevan",
    "Asia/Baku",
    "Asia/Almaty",
    "Asia/Tashkent",
    "Asia/Bishkek",
    "Asia/Dubai",
    "Europe/Berlin",
    "Europe/London",
    "UTC",
)


def zone_choices(current: str | None = None) -> list[tuple[str, int]]:
    """The time zones a form offers, each with its UTC offset in minutes now: Russia's
    (by offset), then NEIGHBOUR_ZONES, and `current` wherever it is not among them."""
    now = datetime.now(ZoneInfo("UTC"))

    def offset(zone: str) -> int:
        delta = now.astimezone(ZoneInfo(zone)).utcoffset()
        return int(delta.total_seconds() // 60) if delta else 0

    russian = sorted(dict.fromkeys(REGION_TIMEZONES.values()), key=lambda z: (offset(z), z))
    zones = [*russian, *(z for z in NEIGHBOUR_ZONES if z not in russian)]
    if current and current not in zones and current in available_timezones():
        zones.append(current)
    return [(zone, offset(zone)) for zone in zones]


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
