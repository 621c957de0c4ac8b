"""A setting refused at start-up names its variable and says what is expected, in the
operator's language (CRMHUB_DEFAULT_LOCALE), instead of a pydantic traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm.config import load_settings
from crm.errors import ValidationFailed
from crmhub import cli

REFUSED = [
    ("CRMHUB_WEB_PORT", "http", "A port number from 0 to 65535 expected"),
    ("CRMHUB_WEB_PORT", "65536", "A port number from 0 to 65535 expected"),
    ("CRMHUB_DEFAULT_LOCALE", "de", "ru or en expected"),
    ("CRMHUB_DEFAULT_LOCALE", "", "ru or en expected"),
    ("CRMHUB_DEFAULT_TIMEZONE", "Moscow", "A time zone such as Europe/Moscow expected"),
    ("CRMHUB_DEFAULT_TIMEZONE", "../etc/passwd", "A time zone such as Europe/Moscow expected"),
    ("CRMHUB_DEFAULT_TIMEZONE", "Europe", "A time zone such as Europe/Moscow expected"),
    ("CRMHUB_REDIS_URL", "localhost:6379", "A redis://, rediss:// or unix:// address expected"),
    ("CRMHUB_ROLE", "both", "all, web or worker expected"),
    ("CRMHUB_RAW_EVENT_RETENTION_DAYS", "0", "A positive whole number expected"),
]
RU = {
    "A port number from 0 to 65535 expected": "Ожидается номер порта от 0 до 65535",
    "ru or en expected": "Ожидается ru или en",
    "A time zone such as Europe/Moscow expected": "Ожидается часовой пояс, например Europe/Moscow",
    "A redis://, rediss:// or unix:// address expected": "Ожидается адрес redis://, rediss:// или unix://",
    "all, web or worker expected": "Ожидается all, web или worker",
    "A positive whole number expected": "Ожидается целое положительное число",
}


@pytest.mark.parametrize(("name", "value", "expected"), REFUSED)
def test_a_refused_value_names_its_variable_and_what_is_expected(
    name: str, value: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationFailed) as refused:
        load_settings()
    assert refused.value.field_messages("en") == {name: expected}
    assert refused.value.field_messages("ru") == {name: RU[expected]}


def test_good_values_are_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (
        ("CRMHUB_WEB_PORT", "0"),
        ("CRMHUB_DEFAULT_LOCALE", "en-US"),
        ("CRMHUB_DEFAULT_TIMEZONE", "Asia/Vladivostok"),
        ("CRMHUB_REDIS_URL", "rediss://cache.example:6380/2"),
        ("CRMHUB_ROLE", "worker"),
    ):
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert (settings.web_port, settings.default_locale, settings.role) == (0, "en", "worker")
    assert settings.default_timezone == "Asia/Vladivostok"


def test_every_refused_setting_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMHUB_WEB_PORT", "-1")
    monkeypatch.setenv("CRMHUB_ROLE", "web,worker")
    with pytest.raises(ValidationFailed) as refused:
        load_settings()
    assert refused.value.field_messages("en") == {
        "CRMHUB_WEB_PORT": "A port number from 0 to 65535 expected",
        "CRMHUB_ROLE": "all, web or worker expected",
    }


@pytest.mark.parametrize(
    ("locale", "name", "value", "said"),
    [
        ("en", "CRMHUB_IMPORT_RETENTION_DAYS", "0", "A positive whole number expected"),
        ("ru", "CRMHUB_RAW_EVENT_RETENTION_DAYS", "0", "Ожидается целое положительное число"),
        (
            "ru",
            "CRMHUB_DEFAULT_TIMEZONE",
            "Europe/Mordor",
            "Ожидается часовой пояс, например Europe/Moscow",
        ),
    ],
)
def test_the_command_line_refuses_in_the_operators_language(
    locale: str,
    name: str,
    value: str,
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("CRMHUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRMHUB_DEFAULT_LOCALE", locale)
    monkeypatch.setenv(name, value)
    assert cli.main(["migrate"]) == 2
    assert capsys.readouterr().err.splitlines() == [f"error: {name}: {said}"]
    assert not (tmp_path / "crmhub.sqlite3").exists()  # nothing ran


@pytest.mark.parametrize(
    ("url", "taken"),
    [
        ("", None),
        ("  ", None),
        (
            "postgresql://crm:secret@db.example:5432/crm",
            "postgresql://crm:secret@db.example:5432/crm",
        ),
        ("postgres://localhost/crm", "postgres://localhost/crm"),
        ("sqlite:///var/lib/crmhub/crm.sqlite3", "sqlite:///var/lib/crmhub/crm.sqlite3"),
    ],
)
def test_database_urls_taken(url: str, taken: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMHUB_DATABASE_URL", url)
    assert load_settings().database_url == taken
