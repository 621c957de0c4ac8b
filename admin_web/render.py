"""Pages: the Jinja environment (autoescaped, Babel i18n in the reader's locale), flash
messages, the stash of a refused form, and redirects."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import get_session
from babel.dates import get_timezone_location
from babel.numbers import format_decimal
from yarl import URL

from admin_web.keys import USER
from admin_web.security import CSRF_FIELD, csrf_token
from crm import labels, models
from crm.i18n import format_date, format_datetime, format_money, pick_locale, translations
from crm.models import User
from crm.normalize import storable
from crm.regions import zone_choices

TEMPLATES = Path(__file__).resolve().parent / "templates"
STASH_SKIP = frozenset({CSRF_FIELD, "_back", "password", "token", "secret", "confirmation"})
STASH_MAX = 1500  # characters of a refused form kept for refilling it (the cookie is small)


@jinja2.pass_context
def _gettext(context: Any, message: str) -> str:
    return translations(context.get("locale") or "ru").gettext(message)


@jinja2.pass_context
def _pgettext(context: Any, msgctxt: str, message: str) -> str:
    return str(translations(context.get("locale") or "ru").pgettext(msgctxt, message))


@jinja2.pass_context
def _ngettext(context: Any, singular: str, plural: str, n: int) -> str:
    return translations(context.get("locale") or "ru").ngettext(singular, plural, n)


@jinja2.pass_context
def _label(context: Any, value: Any, table: Any = None) -> str:
    return labels.label(value, context.get("locale"), table)


@jinja2.pass_context
def _client_kind(context: Any, client: Any) -> str:
    return labels.client_kind(client, context.get("locale"))


@jinja2.pass_context
def _history_field(context: Any, field: str) -> str:
    return labels.history_field(field, context.get("locale"))


@jinja2.pass_context
def _history_value(context: Any, field: str, value: str | None, people: Any = None) -> str:
    return labels.history_value(field, value, context.get("locale"), people)


@jinja2.pass_context
def _channel_field(context: Any, key: str) -> str:
    return labels.channel_field(key, context.get("locale"))


@jinja2.pass_context
def _channel_value(context: Any, key: str, value: Any) -> str:
    return labels.channel_value(key, value, context.get("locale"))


@jinja2.pass_context
def _datetime(context: Any, value: datetime | None, fmt: str = "short") -> str:
    if value is None:
        return ""
    user: User | None = context.get("user")
    tz = user.timezone if user else "Europe/Moscow"
    return format_datetime(value, context.get("locale"), tz, fmt)


@jinja2.pass_context
def _tzname(context: Any, name: str | None) -> str:
    """A time zone as the reader says it: "Москва" for Europe/Moscow in Russian."""
    if not name:
        return ""
    try:
        return str(
            get_timezone_location(name, locale=context.get("locale") or "ru", return_city=True)
        )
    except (LookupError, ValueError):
        return name


@jinja2.pass_context
def _zone_choices(context: Any, current: str | None = None) -> list[tuple[str, str]]:
    """(zone, "UTC+03:00 Москва") for a time zone select (crm.regions.zone_choices)."""
    out = []
    for zone, minutes in zone_choices(current):
        sign = "+" if minutes >= 0 else "\u2212"
        hours, rest = divmod(abs(minutes), 60)
        place = _tzname(context, zone) if zone != "UTC" else ""
        out.append((zone, f"UTC{sign}{hours:02d}:{rest:02d} {place}".strip()))
    return out


@jinja2.pass_context
def _date(context: Any, value: date | None) -> str:
    return format_date(value, context.get("locale")) if value else ""


@jinja2.pass_context
def _number(context: Any, value: float | Decimal | None, digits: int = 0) -> str:
    """A number as the reader writes it ("1,2" in Russian), at most `digits` decimals."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(round(float(value), digits), format=pattern, locale=context.get("locale"))


@jinja2.pass_context
def _amount_input(context: Any, value: Decimal | None) -> str:
    """An amount as an input's value, the way the reader types it ("89300" or "700,50" in
    Russian), never the stored "89300.00"; the forms read it back either way."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value))
    pattern = "0" if number == number.to_integral_value() else "0.00"
    return format_decimal(number, format=pattern, locale=context.get("locale"))


@jinja2.pass_context
def _money(context: Any, value: Decimal | None, currency: str = "RUB") -> str:
    return "" if value is None else format_money(value, currency, context.get("locale"))


def max_length(model: str, field: str) -> int:
    """The model column's limit, for an input's `maxlength` (`maxlength("Client", "name")`):
    the browser stops typing where the service would refuse."""
    column = getattr(models, model)._meta.fields_map[field]
    limit = getattr(column, "max_length", None)
    if not isinstance(limit, int):
        raise ValueError(f"{model}.{field} has no length limit")
    return limit


def setup(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext
    )
    env.filters["dt"] = _datetime
    env.filters["day"] = _date
    env.filters["tzname"] = _tzname
    env.filters["money"] = _money
    env.filters["amount_input"] = _amount_input
    env.globals["maxlength"] = max_length
    env.globals["zone_choices"] = _zone_choices
    env.filters["num"] = _number
    env.globals.update(  # the reader's words for stored values (crm.labels)
        label=_label,
        client_kind=_client_kind,
        history_field=_history_field,
        history_value=_history_value,
        channel_field=_channel_field,
        channel_value=_channel_value,
    )


def locale_of(request: web.Request) -> str:
    user: User | None = request.get(USER)
    if user is not None:
        return pick_locale(user.locale)
    return pick_locale(request.headers.get("Accept-Language", "").split(",", 1)[0] or None)


def gettext_for(request: web.Request, message: str, **params: Any) -> str:
    text = translations(locale_of(request)).gettext(message)
    return text.format(**params) if params else text


async def flash(request: web.Request, message: str, level: str = "ok") -> None:
    """A message shown once on the next page (already in the reader's language)."""
    session = await get_session(request)
    session["flash"] = [*session.get("flash", []), [level, message]][-5:]


async def stash_form(request: web.Request, errors: dict[str, str]) -> None:
    """Keep a refused form's values and per-field messages for the page it came from."""
    session = await get_session(request)
    form = await request.post() if request.method == "POST" else {}
    kept: dict[str, str | list[str]] = {}
    size = 0
    for key in set(form.keys()) - STASH_SKIP:
        values = [v for v in form.getall(key) if isinstance(v, str) and storable(v)]  # type: ignore[attr-defined]
        size += sum(len(v) for v in values)
        if size > STASH_MAX:
            break
        kept[key] = values if len(values) > 1 else (values[0] if values else "")
    session["stash"] = {"form": kept, "errors": {k: v[:300] for k, v in errors.items()}}


def local_path(value: object) -> str | None:
    """`value` when it is a path of this site to send a browser to, else None.

    Browsers read a backslash as a slash, so `/\\evil.example` leads to
    `//evil.example`, another site; they drop tabs and newlines anywhere in a URL."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in value):
        return None
    try:
        url = URL(value)
    except ValueError:
        return None
    if url.scheme or url.host is not None or not url.path.startswith("/"):
        return None
    if url.path.startswith("//"):
        return None
    return value


def back_url(request: web.Request, form: Any) -> str:
    """Where a form came from: its `_back` field, else the referring page of this site,
    else the start page."""
    value = local_path(form.get("_back") if form is not None else None)
    if value is not None:
        return value
    try:
        referer = URL(request.headers.get("Referer", ""))
    except ValueError:
        return "/"
    if referer.host == request.url.host:
        return local_path(referer.path_qs) or "/"
    return "/"


def redirect(location: str) -> web.Response:
    """303 See Other: after a form, the browser GETs `location`."""
    return web.Response(status=303, headers={"Location": location})


async def render(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """A page with the common context: reader, locale, CSRF token, flashes, refused form."""
    session = await get_session(request)
    flashes = session.pop("flash", [])
    stash = session.pop("stash", {})
    user: User | None = request.get(USER)
    full = {
        "user": user,
        "locale": locale_of(request),
        "csrf_token": await csrf_token(request),
        "csrf_field": CSRF_FIELD,
        "here": request.path_qs,
        "path": request.path,
        "flashes": flashes,
        "form": stash.get("form", {}),
        "errors": stash.get("errors", {}),
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, full, status=status)
    return response
