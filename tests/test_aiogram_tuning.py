"""The Bot API session of `bot.aiogram_tuning`: aiogram's, with one TLS context per process."""

from __future__ import annotations

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.aiogram_tuning import JsonRequestSession, tls_context

API = TelegramAPIServer.from_base("https://api.telegram.org")


def test_the_session_has_what_aiogram_sets_up() -> None:
    """`JsonRequestSession.__init__` stands in for aiogram's: the same attributes (an aiogram
    upgrade that adds one fails here), the same pool limits."""
    ours, aiograms = JsonRequestSession(api=API), AiohttpSession(api=API)
    assert set(vars(ours)) == set(vars(aiograms))
    assert {
        key: value for key, value in aiograms._connector_init.items() if key != "ssl"
    } == ours._connector_init
    assert ours.api == aiograms.api and ours.timeout == aiograms.timeout


async def test_every_session_uses_the_one_tls_context() -> None:
    first, second = JsonRequestSession(api=API), JsonRequestSession(api=API)
    try:
        pools = [(await session.create_session()).connector for session in (first, second)]
        assert pools[0] is not pools[1]
        assert all(pool._ssl is tls_context() for pool in pools)  # type: ignore[union-attr]
        aiograms = AiohttpSession(api=API)._connector_init["ssl"]  # the same certificates, checked alike
        assert tls_context().cert_store_stats() == aiograms.cert_store_stats()
        assert (tls_context().verify_mode, tls_context().check_hostname) == (
            aiograms.verify_mode,
            aiograms.check_hostname,
        )
    finally:
        await first.close()
        await second.close()
