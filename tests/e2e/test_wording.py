"""Wording and display slips (issue 16), through the emulator: a poll's audience question speaks of
the poll, its card shows times without seconds and with the zone, and once published the card says
it is open, not a draft."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Harness
from tests.e2e.helpers import plain
from tests.e2e.test_survey_admin import make_coordinator


async def test_a_published_poll_card_is_no_draft_and_shows_minutes_and_zone(
    harness: Harness, registered: Any
) -> None:
    coordinator = await make_coordinator(harness, registered, "en")
    await registered("Kofi", "en")
    await harness.send(coordinator, "/poll")
    await harness.send(coordinator, "When do we meet?")
    so_far = await harness.send(coordinator, "Saturday\nSunday")
    kind = await harness.choose(coordinator, so_far, "Done")
    anonymous = await harness.choose(coordinator, kind, "One answer")
    await harness.choose(coordinator, anonymous, "👤 With names")  # the closing time question
    confirm = await harness.send(coordinator, "14.03.2099 18:30")
    audience = await harness.choose(coordinator, confirm, "✅ Correct")
    assert audience["text"] == "Who should receive this poll?"  # not "it" nor "the announcement"
    await harness.choose(coordinator, audience, "Everyone")  # the preview notice
    card = await harness.reply(coordinator)
    closes = "Mar 14, 2099, 6:30\u202fPM (UTC)"  # no seconds, the zone named
    assert "📝 Draft, not published yet" in card["text"]
    assert plain(harness.t("<b>Closes:</b> {when}", "en", when=closes)) in card["text"]

    await harness.press(coordinator, card, "📤 Publish")
    published = await harness.edited(coordinator, card)
    assert "Draft" not in published["text"]
    assert published["text"].splitlines()[1] == f"🟢 Open until {closes}"
    assert "reply_markup" not in published or not published["reply_markup"]


async def test_a_survey_audience_question_speaks_of_the_survey(harness: Harness, registered: Any) -> None:
    coordinator = await make_coordinator(harness, registered, "fr")
    t = harness.t
    await harness.send(coordinator, "/newsurvey")
    kind = await harness.send(coordinator, "Bilan de l’année")
    await harness.choose(coordinator, kind, t("👍 Yes / no", "fr"))
    optional = await harness.send(coordinator, "Êtes-vous satisfait ?")
    more = await harness.choose(coordinator, optional, t("Required", "fr"))
    anonymous = await harness.choose(coordinator, more, t("✅ That's all", "fr"))
    audience = await harness.choose(coordinator, anonymous, t("🙈 Anonymous", "fr"))
    assert (
        audience["text"]
        == t("Who should receive this survey?", "fr")
        == "Qui doit recevoir ce questionnaire ?"
    )
