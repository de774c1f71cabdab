"""The LibreTranslate client against the stand-in server: languages and their codes, what is sent
(texts as a list, the format, the API key), and every failure as `TranslateError`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.config import load_settings
from bot.services.translate import TranslateError, Translator, server_code, translator_from
from tests.translate_server import StandIn


@pytest.fixture
async def server() -> AsyncIterator[StandIn]:
    stand_in = StandIn(api_key="sesame")
    await stand_in.start()
    yield stand_in
    await stand_in.stop()


def test_settings_turn_it_on_and_check_the_address() -> None:
    assert translator_from(load_settings(translate_url="")) is None
    on = translator_from(load_settings(translate_url="http://mt:5000/", translate_api_key="k"))
    assert on == Translator("http://mt:5000", "k", 20.0)
    with pytest.raises(Exception, match="TRANSLATE_URL"):
        load_settings(translate_url="mt:5000")


def test_server_codes_of_shipped_languages() -> None:
    assert server_code("zh_Hans", {"zh-Hans", "zh"}) == "zh-Hans"
    assert server_code("zh_Hans", {"zh", "en"}) == "zh"  # older servers
    assert server_code("de", {"de"}) == "de"
    assert server_code("sw", {"de", "en"}) is None


async def test_languages_and_a_translation(server: StandIn) -> None:
    translator = Translator(server.url, "sesame")
    offered = await translator.languages()
    assert "sw" not in offered and "de" in offered["fr"]
    texts = await translator.translate(["Fête &amp; <b>danse</b>", "Samedi"], "fr", "de", html=True)
    assert texts == ["[de] Fête &amp; <b>danse</b>", "[de] Samedi"]
    assert server.requests == [
        {
            "q": ["Fête &amp; <b>danse</b>", "Samedi"],
            "source": "fr",
            "target": "de",
            "format": "html",
            "api_key": "sesame",
        }
    ]
    assert await translator.translate([], "fr", "de", html=False) == []  # nothing asked
    assert len(server.requests) == 1


async def test_every_failure_is_a_translate_error(server: StandIn) -> None:
    with pytest.raises(TranslateError, match="403"):
        await Translator(server.url, "wrong").translate(["a"], "fr", "de", html=False)
    server.status = 500
    with pytest.raises(TranslateError, match="500"):
        await Translator(server.url, "sesame").languages()
    server.status = 200
    server.answers["de"] = lambda text: 42  # type: ignore[assignment,return-value]
    with pytest.raises(TranslateError, match="not texts"):
        await Translator(server.url, "sesame").translate(["a"], "fr", "de", html=False)
    await server.stop()
    with pytest.raises(TranslateError, match="ClientConnectorError"):
        await Translator(server.url, "sesame").languages()


async def test_a_server_that_never_answers_is_a_translate_error() -> None:
    """The request hangs until the client's timeout (it never answers: no race on timing)."""
    never = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await never.wait()
        return web.json_response([])

    app = web.Application()
    app.router.add_get("/languages", hang)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        with pytest.raises(TranslateError, match="Timeout"):
            await Translator(url, timeout=0.2).languages()
    finally:
        never.set()
        await runner.cleanup()
