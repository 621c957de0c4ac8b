"""Settings, read from the environment (prefix CRMHUB_) and from `.env`."""

from __future__ import annotations

import secrets
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crm.errors import ValidationFailed
from crm.i18n import N_, SUPPORTED_LOCALES, Text

TELEGRAM_API_BASE = "https://api.telegram.org"


class Settings(BaseSettings):
    """Operator-facing settings. Names are a contract: scripts rely on them."""

    model_config = SettingsConfigDict(
        env_prefix="CRMHUB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("./data")
    database_url: str | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port
    public_url: str | None = None
    secret_key: str | None = None
    default_locale: str = "ru"
    default_timezone: str = "Europe/Moscow"
    manager_bot_token: str | None = None
    # where the bot keeps what a manager is in the middle of (a dialog, a note being typed):
    # redis://... survives restarts and is shared by webhook workers; unset: in memory
    redis_url: str | None = Field(default=None, pattern=r"^(redis|rediss|unix)://")
    telegram_api_base: str = TELEGRAM_API_BASE
    vk_api_base: str = "https://api.vk.ru"
    viber_api_base: str = "https://chatapi.viber.com"
    role: str = Field(default="all", pattern="^(all|web|worker)$")
    # days the files of an import (the uploaded table, the failed rows) are kept after it
    # finished or failed (crm.import_files.forget_ended_imports)
    import_retention_days: int = Field(default=30, ge=1)
    # days a processed webhook body or polled update is kept in raw_events
    # (inbox.raw_retention.forget_processed_events; pending and unparsed ones stay)
    raw_event_retention_days: int = Field(default=30, ge=1)
    # reverse proxies whose X-Forwarded-For names the client (addresses or networks, comma
    # separated); the login lock-out counts by that address. Unset: the peer's own address.
    trusted_proxies: str = ""

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        for part in parts:
            ip_network(part, strict=False)  # ValueError: refused
        return ",".join(parts)

    def trusted_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """CRMHUB_TRUSTED_PROXIES as networks (an address is a network of one)."""
        return tuple(
            ip_network(part, strict=False) for part in self.trusted_proxies.split(",") if part
        )

    @field_validator("default_locale")
    @classmethod
    def _supported_locale(cls, value: str) -> str:
        """ru or en; a regional spelling (`en-US`, `ru_RU`) is taken as its language."""
        short = value.strip().replace("-", "_").split("_", 1)[0].lower()
        if short not in SUPPORTED_LOCALES:
            raise ValueError("not a supported locale")
        return short

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():  # as crm.regions.check_timezone
            raise ValueError("not an IANA time zone")
        return value

    def db_url(self) -> str:
        """The tortoise database URL; an SQLite file in the data dir by default."""
        if self.database_url:
            return normalize_db_url(self.database_url)
        return f"sqlite://{(self.data_dir / 'crmhub.sqlite3').resolve()}"

    def ensure_secret_key(self) -> str:
        """The configured secret key, or one generated once into the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            self.secret_key = path.read_text().strip()
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.secret_key = secrets.token_urlsafe(48)
            path.write_text(self.secret_key)
            path.chmod(0o600)
        return self.secret_key


# What an operator is told about a refused value, per setting (translated where shown);
# any other setting refused gets NOT_ACCEPTED.
PROBLEMS = {
    "web_port": N_("A port number from 0 to 65535 expected"),
    "default_locale": N_("ru or en expected"),
    "default_timezone": N_("A time zone such as Europe/Moscow expected"),
    "redis_url": N_("A redis://, rediss:// or unix:// address expected"),
    "role": N_("all, web or worker expected"),
    "import_retention_days": N_("A positive whole number expected"),
    "raw_event_retention_days": N_("A positive whole number expected"),
    "trusted_proxies": N_(
        "Addresses or networks separated by commas expected, such as 127.0.0.1,10.0.0.0/8"
    ),
}
NOT_ACCEPTED = N_("This value is not accepted")


class _Locale(BaseSettings):
    model_config = Settings.model_config

    default_locale: str = "ru"


def settings_locale() -> str:
    """CRMHUB_DEFAULT_LOCALE alone, read like Settings: the language to refuse them in."""
    return _Locale().default_locale


def load_settings(**values: Any) -> Settings:
    """Settings from the environment (and `values`). A refused value raises ValidationFailed
    naming its variable (CRMHUB_...) with what is expected (PROBLEMS), which the command line
    prints in the operator's language (settings_locale())."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        names = dict.fromkeys(str(error["loc"][0]) for error in exc.errors() if error["loc"])
        if not names:
            raise
        raise ValidationFailed(
            fields={
                f"CRMHUB_{name.upper()}": Text(PROBLEMS.get(name, NOT_ACCEPTED)) for name in names
            }
        ) from None


def normalize_db_url(url: str) -> str:
    """Accept libpq-style `postgresql://` URLs as well as tortoise's own schemes."""
    for prefix in ("postgresql://", "postgresql+asyncpg://", "asyncpg://"):
        if url.startswith(prefix):
            return "postgres://" + url[len(prefix) :]
    return url
