"""Telegram's HTML parser: TDLib's own test vectors, UTF-16 offsets and what sendMessage stores."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from bot.sandbox import BotAPIEmulator, EntityParseError, parse_html, utf16_len

if TYPE_CHECKING:
    from conftest import RawApi


def entity(kind: str, offset: int, length: int, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "offset": offset, "length": length, **extra}


# Vectors from TDLib's test/message_entities.cpp (parse_html).
ERRORS = [
    ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
    ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
    ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
    ("🏟 🏟&lt;<i    aba>", 'Can\'t find end tag corresponding to start tag "i"'),
    ("🏟 🏟&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
    ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
    ('🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;>', "Unclosed start tag at byte offset 13"),
    ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
    ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
    ("🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
    ("🏟 🏟&lt;<i>a</em   >", 'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"'),
    (
        "&#57311;",
        "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched "
        "surrogate code units",
    ),
    ('<span class="x">a</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ('<tg-emoji emoji-id="x">y</tg-emoji>', "Invalid custom emoji identifier specified"),
    ("a < b", 'Unsupported start tag "" at byte offset 2'),
]

PARSED = [
    ("&ge;&lt;&gt;&amp;&quot;&laquo;&#12345678;", '&ge;<>&"&laquo;&#12345678;', []),
    ("➡️ ➡️<i>➡️ ➡️</i><b>➡️ ➡️</b>", "➡️ ➡️➡️ ➡️➡️ ➡️", [entity("italic", 5, 5), entity("bold", 10, 5)]),
    (
        "🏟 🏟<i>🏟 &gt;<b aba   =   caba>&lt🏟</b></i>",
        "🏟 🏟🏟 ><🏟",
        [entity("italic", 5, 7), entity("bold", 9, 3)],
    ),
    ("🏟 🏟&lt;<i>🏟 🏟&lt;</>", "🏟 🏟<🏟 🏟<", [entity("italic", 6, 6)]),
    ("<a href=telegram.org>\n</a>", "\n", [entity("text_link", 0, 1, url="http://telegram.org/")]),
    (
        "<a   href=  'telegram.org?&lt;'   > </a>",
        " ",
        [entity("text_link", 0, 1, url="http://telegram.org/?<")],
    ),
    ("<a>telegram.org </a>", "telegram.org ", []),
    ("<a>telegram.org</a>", "telegram.org", [entity("text_link", 0, 12, url="http://telegram.org/")]),
    ("<pre><code>x</code></pre>", "x", [entity("pre", 0, 1), entity("code", 0, 1)]),
    ('<pre><code class="language-fift">x</></>', "x", [entity("pre", 0, 1, language="fift")]),
    ('<code class="language-fift"><pre>x</></>', "x", [entity("pre", 0, 1, language="fift")]),
    ('<pre><code class="language-fift">x</> </>', "x ", [entity("pre", 0, 2), entity("code", 0, 1)]),
    (
        "<code><i><b> </b></i></code>",
        " ",
        [entity("code", 0, 1), entity("bold", 0, 1), entity("italic", 0, 1)],
    ),
    (
        '➡️<tg-emoji emoji-id = "12345">➡️</tg-emoji>',
        "➡️➡️",
        [entity("custom_emoji", 2, 2, custom_emoji_id="12345")],
    ),
    (
        "<blockquote expandable>a<pre>b</></>",
        "ab",
        [entity("expandable_blockquote", 0, 2), entity("pre", 1, 1)],
    ),
    ('<blockquote cite="" x>a</blockquote>', "a", [entity("blockquote", 0, 1)]),
    (
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
        "st",
        [entity("spoiler", 0, 1), entity("spoiler", 1, 1)],
    ),
    (
        "<s>a</s><strike>b</strike><del>c</del><u>d</u><ins>e</ins><em>f</em><strong>g</strong>",
        "abcdefg",
        [
            entity("strikethrough", 0, 1),
            entity("strikethrough", 1, 1),
            entity("strikethrough", 2, 1),
            entity("underline", 3, 1),
            entity("underline", 4, 1),
            entity("italic", 5, 1),
            entity("bold", 6, 1),
        ],
    ),
    (
        '<tg-time unix="1647531900" format="wDT">22:45</tg-time>',
        "22:45",
        [entity("date_time", 0, 5, unix_time=1647531900, date_time_format="wDT")],
    ),
    ("Fish & chips &copy; 5 > 3", "Fish & chips &copy; 5 > 3", []),
]


@pytest.mark.parametrize(("html", "message"), ERRORS)
def test_invalid_html_is_refused_with_tdlib_messages(html: str, message: str) -> None:
    with pytest.raises(EntityParseError) as error:
        parse_html(html)
    assert str(error.value) == message


@pytest.mark.parametrize(("html", "text", "entities"), PARSED)
def test_valid_html_gives_text_and_entities(html: str, text: str, entities: list[dict]) -> None:
    assert parse_html(html) == (text, entities)


def test_offsets_are_utf16_code_units_for_cyrillic_arabic_and_emoji() -> None:
    html = '<b>Привет</b> 👋 <i>مرحبا</i> <a href="https://example.org/x">🇸🇳 Dakar</a> <u>😀</u>'
    text, entities = parse_html(html)
    assert text == "Привет 👋 مرحبا 🇸🇳 Dakar 😀"
    assert entities == [
        entity("bold", 0, 6),
        entity("italic", 10, 5),
        entity("text_link", 16, 10, url="https://example.org/x"),
        entity("underline", 27, 2),
    ]
    assert utf16_len(text) == 29 and len(text) == 25


def test_text_mention_uses_the_known_user() -> None:
    def resolve(user_id: int) -> dict | None:
        return {"id": user_id, "is_bot": False, "first_name": "Amina"} if user_id == 7 else None

    text, entities = parse_html('<a href="tg://user?id=7">Amina</a> <a href="tg://user?id=8">X</a>', resolve)
    assert text == "Amina X"
    assert entities == [entity("text_mention", 0, 5, user={"id": 7, "is_bot": False, "first_name": "Amina"})]


async def test_send_message_stores_telegram_normalised_text(api: RawApi, emu: BotAPIEmulator) -> None:
    user = emu.create_user("Amina")
    sent = await api.ok("sendMessage", chat_id=user.id, text=" \n<b> hi </b>\n\r\t ", parse_mode="HTML")
    assert sent["text"] == "hi" and sent["entities"] == [entity("bold", 0, 2)]
    sent = await api.ok(
        "sendMessage", chat_id=user.id, text="a\r\nb\u202ec\td <code> </code>e", parse_mode="html"
    )
    assert sent["text"] == "a\nbc d  e" and "entities" not in sent


async def test_sent_messages_get_automatic_entities(api: RawApi, emu: BotAPIEmulator) -> None:
    user = emu.create_user("Amina")
    text = "See https://example.org/a, mail x@y.org, /help @amina #event_2 $USD <code>/no</code>"
    sent = await api.ok("sendMessage", chat_id=user.id, text=text, parse_mode="HTML")
    kinds = {(e["type"], sent["text"][e["offset"] : e["offset"] + e["length"]]) for e in sent["entities"]}
    assert kinds == {
        ("url", "https://example.org/a"),
        ("email", "x@y.org"),
        ("bot_command", "/help"),
        ("mention", "@amina"),
        ("hashtag", "#event_2"),
        ("cashtag", "$USD"),
        ("code", "/no"),
    }


async def test_plain_text_keeps_tags_and_explicit_entities_are_checked(
    api: RawApi, emu: BotAPIEmulator
) -> None:
    user = emu.create_user("Amina")
    sent = await api.ok("sendMessage", chat_id=user.id, text="<b>not bold</b>")
    assert sent["text"] == "<b>not bold</b>" and "entities" not in sent
    sent = await api.ok("sendMessage", chat_id=user.id, text="bold", entities=[entity("bold", 0, 4)])
    assert sent["entities"] == [entity("bold", 0, 4)]
    _, description = await api.error(
        "sendMessage", chat_id=user.id, text="ab", entities=[entity("bold", 1, 5)]
    )
    assert description == (
        "Bad Request: entity beginning at UTF-16 offset 1 ends after the end of the text at UTF-16 offset 6"
    )
    assert await api.error("sendMessage", chat_id=user.id, text="x", parse_mode="Fancy") == (
        400,
        "Bad Request: unsupported parse_mode",
    )


@pytest.mark.parametrize(
    ("html", "description"),
    [
        ("<foo>x</foo>", 'Bad Request: can\'t parse entities: Unsupported start tag "foo" at byte offset 0'),
        (
            "<b>never closed",
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        ),
        (
            "<b><i>x</b></i>",
            'Bad Request: can\'t parse entities: Unmatched end tag at byte offset 7, expected "</i>", '
            'found "</b>"',
        ),
        ("<b> </b>", "Bad Request: message must be non-empty"),
    ],
)
async def test_aiogram_gets_the_parse_errors(
    bot: Bot, emu: BotAPIEmulator, html: str, description: str
) -> None:
    user = emu.create_user("Amina")
    with pytest.raises(TelegramBadRequest) as error:
        await bot.send_message(user.id, html, parse_mode="HTML")
    assert error.value.message == description
