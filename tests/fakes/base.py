"""Shared machinery of the loopback platform fakes: lifecycle, call recording, faults.

Each fake subclasses `FakeServer`, builds its aiohttp application in `build_app()` and
answers in the platform's own wire format. Tests read `.calls` to see what a client really
sent and call `fail_next()` to make the platform misbehave the way it does in production.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web

ANY_METHOD = "*"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture_path(channel: str, name: str) -> Path:
    """Path of a raw payload, e.g. `fixture_path("viber", "message_text")`."""
    return FIXTURES / channel / f"{name}.json"


def load_fixture(channel: str, name: str) -> dict[str, Any]:
    """A raw payload as the platform sends it, e.g. `load_fixture("telegram", "callback_query")`."""
    loaded: dict[str, Any] = json.loads(fixture_path(channel, name).read_text(encoding="utf-8"))
    return loaded


@dataclass(frozen=True)
class Call:
    """One request as the platform received it (params decoded to Python values)."""

    method: str
    params: dict[str, Any]
    token: str
    at: float
    fault: str | None = None  # the injected fault kind this call was answered with


@dataclass(frozen=True)
class Fault:
    """An injected failure; `kind` is platform-specific, see each fake's docstring."""

    kind: str
    retry_after: int = 1


class FakeServer:
    """Lifecycle, recording and fault queue common to all platform fakes."""

    #: Hostname the fake binds and advertises.
    host = "127.0.0.1"
    #: Fault kinds `fail_next` accepts; subclasses list their platform's.
    fault_kinds: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.base_url = ""
        self._faults: dict[str, deque[Fault]] = {}
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()
        self.closing = False

    # -- lifecycle ---------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        raise NotImplementedError

    async def start(self) -> str:
        """Bind 127.0.0.1 on a free port and return the base URL (no trailing slash)."""
        self.closing = False
        runner = web.AppRunner(
            self.build_app(), handle_signals=False, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._runner = runner
        port = runner.addresses[0][1]
        self.base_url = f"http://{self.host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        """Release waiting long polls, then shut the server down."""
        self.closing = True
        self.notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- recording ---------------------------------------------------------------------------

    def record(
        self, method: str, params: dict[str, Any], token: str, fault: Fault | None = None
    ) -> Call:
        call = Call(method, params, token, time.time(), fault.kind if fault else None)
        self.calls.append(call)
        self.notify()
        return call

    def calls_to(self, method: str) -> list[Call]:
        """Every recorded call of `method`, failed ones included, oldest first."""
        return [call for call in self.calls if call.method == method]

    async def wait_for_calls(self, method: str, count: int = 1, within: float = 1.0) -> list[Call]:
        """Wait until `method` has been called `count` times; TimeoutError after `within` s."""
        async with asyncio.timeout(within):
            while len(found := self.calls_to(method)) < count:
                await self.changed()
        return found

    def notify(self) -> None:
        """Wake everything awaiting `changed()` (new call, pushed update, shutdown)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def changed(self) -> None:
        await self._changed.wait()

    async def wait_changed(self, seconds: float) -> None:
        """Wait for `notify()` at most `seconds`; returns quietly when they run out."""
        if seconds <= 0 or self.closing:
            return
        try:
            async with asyncio.timeout(seconds):
                await self.changed()
        except TimeoutError:
            pass

    # -- faults ------------------------------------------------------------------------------

    def fail_next(
        self, method: str, times: int = 1, kind: str = "429", retry_after: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` ("*" for any) with an error of `kind`."""
        if kind not in self.fault_kinds:
            raise ValueError(
                f"unknown fault kind {kind!r}; expected one of {sorted(self.fault_kinds)}"
            )
        queue = self._faults.setdefault(method, deque())
        queue.extend(Fault(kind, retry_after) for _ in range(times))

    def take_fault(self, method: str) -> Fault | None:
        for key in (method, ANY_METHOD):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return None

    def clear_faults(self) -> None:
        self._faults.clear()


async def drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the client's connection without answering, as a network failure does."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)


def json_response(body: Any, status: int = 200) -> web.Response:
    """JSON with UTF-8 text left readable, as the platforms send it."""
    return web.json_response(body, status=status, dumps=partial(json.dumps, ensure_ascii=False))


def html_error(status: int) -> web.Response:
    """The bare nginx error page the platforms' front ends answer with when a backend fails."""
    reason = {500: "Internal Server Error", 502: "Bad Gateway", 504: "Gateway Time-out"}[status]
    title = f"{status} {reason}"
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return web.Response(status=status, text=page, content_type="text/html")
