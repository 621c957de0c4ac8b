"""Hostile requests to the webhooks and media links, through the web app as `crmhub run`
builds it (its 50 MB request limit included): bodies past the 5 MB cap however they are
sent, bodies no parser survives, ids no column holds. Each is refused with a 4xx, nothing
is stored, and nothing answers 500."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from admin_web.app import create_app
from crm.config import Settings
from crm.models import Channel, Client, Inquiry, Message, RawEvent, RawEventStatus
from crm.normalize import storable_text
from inbox.media import MediaLinks
from inbox.service import Inbox
from inbox.webhooks import MAX_BODY, read_capped
from tests.fakes.base import load_fixture
from tests.fakes.chunked_post import stream_post, stream_post_answer
from tests.inbox.conftest import VIBER_TOKEN, post, tg_headers

SECRET_KEY = "hostile-bodies-secret-key-0123456789abcdef"
BIG = 45 * 1024**2  # under the app's 50 MB limit: only the webhook cap can refuse it
PUBLIC_URL = "http://crm.example.com"


@pytest.fixture
async def inbox(db: object) -> AsyncIterator[Inbox]:
    """The hub with signed media links, as the runtime makes it with a public URL."""
    hub = Inbox(public_url=PUBLIC_URL, secret_key=SECRET_KEY, channel_ttl=0.0)
    yield hub
    await hub.adapters.close()


@pytest.fixture
async def web_http(
    inbox: Inbox, tmp_path: Path
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The panel's app with the webhooks mounted, as the runtime serves them."""
    app = create_app(Settings(secret_key=SECRET_KEY, data_dir=tmp_path / "data"))
    inbox.mount(app)
    async with TestClient(TestServer(app)) as client:
        yield client


def viber_signature(body: bytes) -> str:
    return hmac.new(VIBER_TOKEN.encode(), body, hashlib.sha256).hexdigest()


async def test_oversize_chunked_bodies_are_refused_at_the_cap(
    web_http: Any, tg: Channel, vk: Channel, viber: Channel
) -> None:
    """Forged and genuine, on each channel: refused, nothing stored, and the answer came
    long before the body ended (the handler stopped reading at the cap)."""
    plain = {"Content-Type": "application/json"}
    cases = [
        (f"/webhooks/telegram/{tg.id}", {**plain, **tg_headers(tg)}, 413),
        (f"/webhooks/telegram/{tg.id}", {**plain, "X-Telegram-Bot-Api-Secret-Token": "x"}, 401),
        (f"/webhooks/vk/{vk.id}", plain, 413),  # VK's secret is in the body
        (f"/webhooks/viber/{viber.id}", {**plain, "X-Viber-Content-Signature": "0" * 64}, 413),
        (f"/webhooks/viber/{viber.id}", plain, 401),  # no signature to check
    ]
    for path, headers, expected in cases:
        status, sent = await stream_post(web_http.server, path, headers, BIG)
        assert status == expected, path
        assert sent < 4 * MAX_BODY < BIG, (path, sent)
    assert not await RawEvent.exists()


async def test_read_capped_holds_no_more_than_the_cap() -> None:
    """What the server took off the connection when the reader gave up: the cap and
    aiohttp's own small buffer, not the 20 MB sent (request.read() takes it all)."""
    cap = 256 * 1024

    async def handler(request: web.Request) -> web.Response:
        body = await read_capped(request, cap)
        taken = request.content.total_bytes
        return web.json_response({"refused": body is None, "taken": taken}, status=413)

    app = web.Application(client_max_size=50 * 1024**2)
    app.router.add_post("/", handler)
    async with TestClient(TestServer(app)) as client:
        status, _sent, body = await stream_post_answer(client.server, "/", {}, 20 * 1024**2)
        small = await client.post("/", data=b"x" * cap)  # exactly the cap: read whole
        assert await small.json() == {"refused": False, "taken": cap}
    answer = json.loads(body)
    assert status == 413 and answer["refused"]
    assert cap < answer["taken"] < cap + 1024**2


async def test_a_declared_oversize_body_is_refused_before_it_is_read(
    web_http: Any, tg: Channel
) -> None:
    response = await web_http.post(
        f"/webhooks/telegram/{tg.id}",
        data=io.BytesIO(b"{" * (MAX_BODY + 1)),
        headers=tg_headers(tg),
    )
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "too_large"
    assert not await RawEvent.exists()


async def test_a_body_just_under_the_cap_is_taken(web_http: Any, tg: Channel) -> None:
    body = b'{"update_id": 1, "pad": "' + b"x" * (MAX_BODY - 40) + b'"}'
    assert len(body) <= MAX_BODY
    response = await web_http.post(
        f"/webhooks/telegram/{tg.id}", data=io.BytesIO(body), headers=tg_headers(tg)
    )
    assert response.status == 200
    assert await RawEvent.all().count() == 1


NESTED = b"[" * 10_000


async def test_bodies_nested_too_deep_get_no_500(
    web_http: Any, vk: Channel, viber: Channel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    forged_vk = await post(web_http, f"/webhooks/vk/{vk.id}", NESTED)
    assert forged_vk.status == 401
    signed = {"X-Viber-Content-Signature": viber_signature(NESTED)}
    viber_answer = await post(web_http, f"/webhooks/viber/{viber.id}", NESTED, **signed)
    assert viber_answer.status == 200  # signed: stored, and kept as unparsable later
    assert await RawEvent.all().count() == 1
    assert not [r for r in caplog.records if r.exc_info]  # no traceback anywhere


async def test_ids_no_column_holds_get_404(
    web_http: Any, tg: Channel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    huge = "9" * 19
    for path in (
        f"/webhooks/telegram/{2**31}",
        f"/webhooks/telegram/{huge}",
        "/webhooks/telegram/" + "9" * 5000,
        "/webhooks/telegram/١",  # an Arabic-Indic digit: `\d` takes it, int() too
    ):
        response = await post(web_http, path, b"{}", **tg_headers(tg))
        assert response.status == 404, path
    links = MediaLinks(public_url=PUBLIC_URL, secret_key=SECRET_KEY)
    for message_id in (2**31, 2**63, int("9" * 30)):
        path = links.url(message_id, 0, "photo.jpg").removeprefix(PUBLIC_URL)
        response = await web_http.get(path)
        assert response.status == 404, path
    assert not [r for r in caplog.records if r.exc_info]
    assert not await RawEvent.exists()


HOSTILE_TEXT = "Цена?\u0000 вот\ud800 так\udc00"
STORED_TEXT = "Цена? вот\ufffd так\ufffd"


async def test_nul_and_lone_surrogates_are_stored_cleaned_on_every_channel(
    http: Any, inbox: Inbox, tg: Channel, vk: Channel, viber: Channel
) -> None:
    """JSON carries both as escapes; no database stores them as they are. The message is
    stored cleaned, with the sender's name, and the manager sees it in an inquiry."""
    update = load_fixture("telegram", "message_text")
    update["message"]["text"] = HOSTILE_TEXT
    update["message"]["from"]["first_name"] = "Ан\u0000на\ud83d"
    vk_event = load_fixture("vk", "message_new")
    vk_event["object"]["message"]["text"] = HOSTILE_TEXT
    viber_event = load_fixture("viber", "message_text")
    viber_event["message"]["text"] = HOSTILE_TEXT
    viber_event["sender"]["name"] = "Ольга\u0000"
    viber_body = json.dumps(viber_event).encode()  # ASCII: "\u0000", "\ud800" escapes
    viber_headers = {"X-Viber-Content-Signature": viber_signature(viber_body)}
    for path, body, headers in (
        (f"/webhooks/telegram/{tg.id}", json.dumps(update).encode(), tg_headers(tg)),
        (f"/webhooks/vk/{vk.id}", json.dumps(vk_event).encode(), {}),
        (f"/webhooks/viber/{viber.id}", viber_body, viber_headers),
    ):
        assert (await post(http, path, body, **headers)).status == 200, path
    await inbox.process()
    assert not await RawEvent.exclude(status=RawEventStatus.PROCESSED).exists()
    texts = await Message.all().order_by("id").values_list("text", flat=True)
    assert texts == [STORED_TEXT] * 3
    names = set(await Client.all().values_list("name", flat=True))
    assert "Ольга" in names and any(n.startswith("Анна\ufffd") for n in names)
    assert await Inquiry.all().count() == 3


def test_storable_text_keeps_what_is_storable() -> None:
    assert storable_text("ok ё 😀") == "ok ё 😀"
    assert storable_text("\u0000") == ""
    assert storable_text("a\udfffb") == "a\ufffdb"
