"""The managers' bot assembled: the Bot (pointed at any Bot API server), the dispatcher with
its routers and dialogs, and `ManagerBot`, which `crmhub/runtime.py` starts and stops:
long polling by default, or a webhook at `POST /webhooks/manager-bot` (checked by a secret
token header) when a public URL is configured."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, cast
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiogram_dialog import BgManagerFactory, setup_dialogs
from aiogram_dialog.api.protocols import MessageManagerProtocol
from aiohttp import web
from redis.exceptions import RedisError

from bot.callbacks import Signer
from bot.dialog_gate import DialogFree, skip_dialogs_where_free
from bot.dialogs import all_dialogs
from bot.dialogs.messages import CardSafeMessageManager
from bot.handlers import fallback_router, feature_routers
from bot.methods import post_json
from bot.middleware import ActingUser, BoundUsers
from bot.notify import Notifier
from bot.report_notify import ReportNotices
from crm.i18n import N_, SUPPORTED_LOCALES, gettext
from inbox import events, webhooks

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/manager-bot"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
POLLING_RESTART = 10.0  # seconds before polling starts again after Telegram failed it
COMMANDS = {
    "inbox": N_("Inquiries waiting to be taken"),
    "deals": N_("My deals by stage"),
    "today": N_("Overdue, today's plan, birthdays"),
    "client": N_("Find a client"),
    "report": N_("My figures; the team's for a head"),
    "mailings": N_("Mailings' progress and results (heads)"),
    "lang": N_("Language"),
    "help": N_("What the bot can do"),
    "cancel": N_("Stop what you are typing"),
}

Tick = Callable[[], Awaitable[object]]


class Session(AiohttpSession):
    """aiogram's session, sending JSON bodies and keeping the parsed response types alive.

    - aiogram posts every call as an urlencoded form, its nested values (keyboards) each
      dumped to a JSON string and then percent-quoted; the Bot API takes the same call as
      one JSON body, built in a fraction of that CPU. Calls that upload a file keep
      aiogram's multipart form.
    - aiogram parses every answer with `Response[method.__returning__]`, a pydantic generic
      that pydantic caches only weakly: once garbage-collected it is built again, which
      costs milliseconds of CPU per API call under load. Holding each one makes it a cache
      hit."""

    _response_types: ClassVar[dict[Any, type[Response[Any]]]] = {}

    def json_body(self, bot: Bot, method: TelegramMethod[TelegramType]) -> str | None:
        """The call as a JSON body; None when it uploads a file. Values are prepared as for
        the form (bot defaults resolved, dates as timestamps), and empty ones left out the
        same way."""
        files: dict[str, Any] = {}
        body = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared:
                body[key] = prepared
        return None if files else self.json_dumps(body)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        body = self.json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        status, content = await post_json(bot, method.__api_method__, body, timeout, method)
        if status == 200 and method.__returning__ is bool:  # answerCallbackQuery and the like
            with contextlib.suppress(ValueError):
                answer = json.loads(content)
                if isinstance(answer, dict) and answer.get("ok") is True:
                    return cast(TelegramType, bool(answer.get("result")))
        response = self.check_response(bot=bot, method=method, status_code=status, content=content)
        return cast(TelegramType, response.result)

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._response_types:
            self._response_types[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)


def create_bot(token: str, api_base: str | None = None) -> Bot:
    """A Bot speaking HTML to `api_base` (Telegram itself by default)."""
    api = TelegramAPIServer.from_base(api_base) if api_base else PRODUCTION
    return Bot(
        token,
        session=Session(api=api),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_dispatcher(
    *,
    signer: Signer,
    notifier: Notifier,
    wake_outbox: Callable[[], None],
    storage: BaseStorage | None = None,
    message_manager: MessageManagerProtocol | None = None,
    bound_users: BoundUsers | None = None,
) -> tuple[Dispatcher, BgManagerFactory]:
    """The dispatcher: every update acts as its bound CRM user (ActingUser, which keeps
    them briefly in `bound_users`), then the feature routers, the dialogs, and the
    fallback. aiogram-dialog's middlewares see only what a dialog can concern
    (`bot.dialog_gate`)."""
    dp = Dispatcher(
        storage=storage or MemoryStorage(),
        # one update of a chat at a time (an in-process lock, no round trip): the parts of
        # a message Telegram split arrive together and must see each other's state
        events_isolation=SimpleEventIsolation(),
        signer=signer,
        notifier=notifier,
        wake_outbox=wake_outbox,
    )
    acting = ActingUser(signer, bound_users)
    notifier.forget_user = acting.bound_users.forget
    dp.update.outer_middleware(acting)
    features = feature_routers()
    for router in features:
        dp.include_router(router)
    for dialog in all_dialogs():
        dp.include_router(dialog)
    dp.include_router(fallback_router())
    factory = setup_dialogs(dp, message_manager=message_manager or CardSafeMessageManager())
    skip_dialogs_where_free(dp, DialogFree(features))
    return dp, factory


def fsm_storage(redis_url: str | None) -> BaseStorage:
    """Where the bot keeps each chat's state and dialog stacks: Redis when configured (it
    survives a restart and is shared by several webhook processes), else this process's
    memory. aiogram-dialog needs the keys to carry the destiny."""
    if not redis_url:
        return MemoryStorage()
    return RedisStorage.from_url(
        redis_url, key_builder=DefaultKeyBuilder(prefix="crmhub-bot", with_destiny=True)
    )


async def check_storage(storage: BaseStorage, redis_url: str | None) -> None:
    """Refuse to start when the configured Redis does not answer: every update would fail."""
    if not isinstance(storage, RedisStorage):
        return
    try:
        await storage.redis.ping()  # type: ignore[misc]  # redis types sync and async as one
    except (RedisError, OSError) as exc:
        await storage.close()
        parts = urlsplit(redis_url or "")
        where = f"{parts.hostname or parts.path}:{parts.port or 6379}"  # no password shown
        raise SystemExit(f"error: CRMHUB_REDIS_URL: no Redis answers at {where} ({exc})") from None


def webhook_secret(secret_key: str) -> str:
    """The `X-Telegram-Bot-Api-Secret-Token` Telegram must send: derived from the secret key."""
    mac = hmac.new(secret_key.encode(), b"crmhub manager bot webhook", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


class ManagerBot:
    """The bot inside a running crmhub."""

    def __init__(
        self,
        *,
        token: str,
        secret_key: str,
        wake_outbox: Callable[[], None],
        api_base: str | None = None,
        public_url: str | None = None,
        storage: BaseStorage | None = None,
    ) -> None:
        self.bot = create_bot(token, api_base)
        self.signer = Signer(secret_key)
        self.notifier = Notifier(self.bot, self.signer)
        self.report_notices = ReportNotices(self.notifier)
        self.dp, self.dialogs = build_dispatcher(
            signer=self.signer, notifier=self.notifier, wake_outbox=wake_outbox, storage=storage
        )
        self.public_url = (public_url or "").rstrip("/")
        self.secret = webhook_secret(secret_key)
        self._polling: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def webhook_mode(self) -> bool:
        return bool(self.public_url)

    def mount(self, app: web.Application) -> None:
        """Add the webhook route. Updates are handled before Telegram hears 200, so a crash
        mid-way makes Telegram deliver the update again rather than lose it."""
        handler = SimpleRequestHandler(
            dispatcher=self.dp, bot=self.bot, secret_token=self.secret, handle_in_background=False
        )
        # Its body is read under the customer webhooks' cap (413 past 5 MB, chunked or not).
        app.router.add_post(WEBHOOK_PATH, webhooks.capped(handler.handle))

    def ticks(self) -> dict[str, tuple[Tick, float]]:
        """The scheduler's periodic passes (name -> (coroutine, seconds))."""
        return {
            "bot-reminders": (self.notifier.deliver_due_reminders_once, 10.0),
            "bot-overdue": (self.notifier.nag_overdue_once, 60.0),
            "bot-digest": (self.notifier.send_digests_once, 60.0),
            "bot-week-digest": (self.report_notices.send_week_digests_once, 60.0),
            "bot-sla": (self.report_notices.nudge_sla_once, 60.0),
        }

    async def start(self, *, updates: bool = True, inbox_events: bool = True) -> None:
        """Push the inbox's events to managers (`inbox_events`) and receive Telegram's
        updates (`updates`: set the webhook, or start long polling)."""
        if inbox_events:
            self._unsubscribe = events.subscribe(self.notifier.on_event)
        # What startup built (modules, routers, dialogs, catalogs: ~240,000 objects) lives as
        # long as the process; frozen, the collector's full passes no longer walk it. They
        # took ~250 ms on the 2-core bench machine, stalling every update in flight.
        gc.freeze()
        if not updates:
            return
        await self._set_commands()
        if self.webhook_mode:
            try:
                await self.bot.set_webhook(
                    self.public_url + WEBHOOK_PATH,
                    secret_token=self.secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
            except TelegramAPIError:
                log.exception("setting the manager bot's webhook failed")
            await self.dp.emit_startup(bot=self.bot)
        else:
            self._polling = asyncio.create_task(self._poll(), name="manager-bot-polling")

    async def _poll(self) -> None:
        while True:
            try:
                await self.bot.delete_webhook()
                await self.dp.start_polling(
                    self.bot,
                    handle_signals=False,
                    close_bot_session=False,
                    allowed_updates=ALLOWED_UPDATES,
                )
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("manager bot polling failed; starting again")
                await asyncio.sleep(POLLING_RESTART)

    async def _set_commands(self) -> None:
        try:
            for locale in (None, *SUPPORTED_LOCALES):
                commands = [
                    BotCommand(command=name, description=gettext(text, locale))
                    for name, text in COMMANDS.items()
                ]
                await self.bot.set_my_commands(
                    commands, scope=BotCommandScopeDefault(), language_code=locale
                )
        except TelegramAPIError:
            log.exception("setting the manager bot's commands failed")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._polling is not None:
            with contextlib.suppress(RuntimeError):
                await self.dp.stop_polling()
            try:
                await asyncio.wait_for(asyncio.shield(self._polling), 5)
            except Exception:
                self._polling.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._polling
        elif self.webhook_mode:
            await self.dp.emit_shutdown(bot=self.bot)
        await self.notifier.drain()
        await self.dp.storage.close()
        await self.bot.session.close()
