"""Settings, read from the environment (prefix CRMHUB_) and from `.env`."""

from __future__ import annotations

import secrets
import tempfile
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

from pydantic import Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import ConfigurationError

from crm.errors import BadSetting
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
    # finished or failed (crm.imports.files.forget_ended_imports)
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

    @field_validator("database_url")
    @classmethod
    def _database_address(cls, value: str | None) -> str | None:
        """PostgreSQL (postgresql://user:password@host:port/name) or SQLite (sqlite:///path);
        empty: SQLite in the data dir. A refused one raises the error type naming what is
        wrong (PROBLEM_KINDS)."""
        value = (value or "").strip()
        if not value:
            return None
        scheme, sep, rest = value.partition("://")
        if not sep or not scheme:
            raise PydanticCustomError(MALFORMED, "not a database URL")
        if scheme.lower() not in DATABASE_SCHEMES:
            raise PydanticCustomError(UNKNOWN_SCHEME, "not a supported database")
        if scheme.lower() == "sqlite":
            if not rest:
                raise PydanticCustomError(MALFORMED, "no SQLite file")
            return value
        try:
            credentials = expand_db_url(normalize_db_url(value))["credentials"]
        except (ConfigurationError, ValueError, KeyError):
            raise PydanticCustomError(MALFORMED, "not a database URL") from None
        if not credentials.get("database"):
            raise PydanticCustomError(MALFORMED, "no database name")
        return value

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

    def check_data_dir(self) -> None:
        """The data dir is a folder this process can write to (made if missing), or
        BadSetting says what is wrong with CRMHUB_DATA_DIR. A real file is written and
        removed: permissions alone do not tell (a read-only mount, root)."""
        path = self.data_dir.resolve()
        try:
            path.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise BadSetting.variable(DATA_DIR, NOT_A_FOLDER, path=str(path)) from None
        except OSError:
            if path.exists() and not path.is_dir():
                raise BadSetting.variable(DATA_DIR, NOT_A_FOLDER, path=str(path)) from None
            raise BadSetting.variable(DATA_DIR, NOT_WRITABLE, path=str(path)) from None
        if not path.is_dir():
            raise BadSetting.variable(DATA_DIR, NOT_A_FOLDER, path=str(path))
        try:
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError:
            raise BadSetting.variable(DATA_DIR, NOT_WRITABLE, path=str(path)) from None

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


DATABASE_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg", "asyncpg", "sqlite")
MALFORMED, UNKNOWN_SCHEME = "malformed_database_url", "unknown_database_scheme"
# What an operator is told when a value is refused for one of these reasons (pydantic's
# error type), whichever setting it is.
PROBLEM_KINDS = {
    MALFORMED: N_(
        "Not a database address: write postgresql://user:password@host:5432/name, or leave "
        "it unset for SQLite in CRMHUB_DATA_DIR"
    ),
    UNKNOWN_SCHEME: N_(
        "Only PostgreSQL (postgresql://user:password@host:5432/name) and SQLite "
        "(sqlite:///path/crmhub.sqlite3) are supported"
    ),
}
DATA_DIR = "CRMHUB_DATA_DIR"
NOT_A_FOLDER = N_("{path} is not a folder: set a folder crmhub may write to")
NOT_WRITABLE = N_(
    "crmhub cannot write to {path}: give the user it runs as write access, or set another folder"
)
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
    """Settings from the environment (and `values`). A refused value raises BadSetting
    naming its variable (CRMHUB_...) with what is expected (PROBLEMS), which the command line
    prints in the operator's language (settings_locale())."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems: dict[str, str | Text] = {}
        for error in exc.errors():
            if error["loc"]:
                name = str(error["loc"][0])
                said = PROBLEM_KINDS.get(error["type"]) or PROBLEMS.get(name, NOT_ACCEPTED)
                problems.setdefault(f"CRMHUB_{name.upper()}", Text(said))
        if not problems:
            raise
        raise BadSetting(fields=problems) from None


def normalize_db_url(url: str) -> str:
    """Accept libpq-style `postgresql://` URLs as well as tortoise's own schemes."""
    for prefix in ("postgresql://", "postgresql+asyncpg://", "asyncpg://"):
        if url.startswith(prefix):
            return "postgres://" + url[len(prefix) :]
    return url
