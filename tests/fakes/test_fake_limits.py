"""The fakes' rate limits (opt-in) refuse as the platforms do: VK error 6 in its JSON error,
Viber status 12, SMTP 451 at MAIL FROM; a sender within the limit is never refused."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from typing import Any

import aiohttp
import aiosmtplib
import pytest

from tests.fakes.smtp_server import SmtpServer
from tests.fakes.viber_api import ViberAPI
from tests.fakes.vk_api import VkAPI

VK_TOKEN = "vk1.a.community-token"
VIBER_TOKEN = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f"


async def test_vk_refuses_the_21st_call_in_a_second_with_error_6() -> None:
    async with VkAPI(rate_limits=True) as fake, aiohttp.ClientSession() as session:

        async def send(n: int) -> dict[str, Any]:
            form = {"access_token": VK_TOKEN, "v": "5.199", "peer_id": str(n),
                    "random_id": str(n), "message": "Здравствуйте"}  # fmt: skip
            async with session.post(f"{fake.base_url}/method/messages.send", data=form) as r:
                assert r.status == 200  # VK answers its errors with HTTP 200
                answer: dict[str, Any] = await r.json()
                return answer

        answers = await asyncio.gather(*(send(n) for n in range(1, 31)))  # at once
        errors = [a["error"] for a in answers if "error" in a]
        assert errors and all(
            (e["error_code"], e["error_msg"]) == (6, "Too many requests per second") for e in errors
        )
        assert fake.limits is not None and fake.limits.refused == len(errors)
        assert len(fake.delivered) == 30 - len(errors) < 30
        await asyncio.sleep(0.1)  # two more calls' worth refilled
        assert "response" in await send(99)


async def test_viber_refuses_past_its_rate_with_status_12() -> None:
    body = {"receiver": "u1==", "type": "text", "text": "Привет", "sender": {"name": "CRM"}}
    async with (
        ViberAPI(require_webhook=False, rate_limits=True) as fake,
        aiohttp.ClientSession(headers={"X-Viber-Auth-Token": VIBER_TOKEN}) as session,
    ):

        async def send() -> tuple[int, int]:
            async with session.post(f"{fake.base_url}/pa/send_message", json=body) as r:
                return r.status, (await r.json())["status"]

        statuses = await asyncio.gather(*(send() for _ in range(30)))  # at once
        refused = [s for s in statuses if s != (200, 0)]
        assert refused and set(refused) == {(200, 12)}  # HTTP 200, status 12
        assert fake.limits is not None and fake.limits.refused == len(refused)
        assert len(fake.delivered) == 30 - len(refused)


async def test_smtp_refuses_a_mailbox_sending_too_fast_with_451() -> None:
    with SmtpServer(user="shop@example.com", password="pw", rate=0.2) as smtp:

        async def send(n: int) -> None:
            letter = EmailMessage()
            letter["From"], letter["To"], letter["Subject"] = "shop@example.com", "c@x.org", str(n)
            letter.set_content("Здравствуйте")
            await aiosmtplib.send(
                letter, hostname=smtp.host, port=smtp.port, username="shop@example.com",
                password="pw", use_tls=False, start_tls=False,
            )  # fmt: skip

        await send(1)  # one at once, then one every 5 s
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
            await send(2)
        assert refused.value.code == 451 and "Too many messages" in refused.value.message
        assert len(smtp.received) == 1
        assert smtp.limits is not None and smtp.limits.refused == 1
