"""The panel served on a real port, driven by Debian's headless Chromium (Playwright).

Screenshots go to tests/artifacts/ (not committed) so a person can look at each page."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, async_playwright
from tortoise.context import TortoiseContext

from admin_web.app import create_app
from crm.config import Settings

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="needs Debian's chromium")


@pytest.fixture
async def server(db: TortoiseContext, tmp_path: Path) -> AsyncIterator[TestServer]:
    app = create_app(Settings(secret_key="e" * 48, data_dir=tmp_path / "data"))
    async with TestServer(app, host="127.0.0.1") as srv:
        yield srv


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():  # noqa: ASYNC240
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


class Shots:
    """Numbered screenshots of one walk, under tests/artifacts/<walk>/."""

    def __init__(self, name: str) -> None:
        self.folder = ARTIFACTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    async def __call__(self, page: Page, name: str) -> None:
        self.count += 1
        await page.screenshot(
            path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True
        )
