"""The templates' own markup: attributes given to the form macros."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from tests.admin_web.conftest import Browser


async def test_input_attributes_are_markup_not_escaped_text(browser: Browser) -> None:
    status, text = await browser.get("/onboarding")
    assert status == 200
    assert 'inputmode="numeric" autocomplete="off"' in text
    assert 'type="number" name="employees" id="f-employees" value="" min="1">' in text
    assert 'autocomplete="new-password"' in text
    assert "&#34;" not in text


def test_input_attribute_values_are_escaped(app: web.Application) -> None:
    template = aiohttp_jinja2.get_env(app).from_string(
        '{% from "_macros.html" import input with context %}'
        '{{ input("q", "Search", attrs={"placeholder": hostile, "data-x": 1}) }}'
    )
    html = template.render(form={}, errors={}, hostile='"><script>alert(1)</script>')
    assert 'placeholder="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert 'data-x="1"' in html
    assert "<script>" not in html
