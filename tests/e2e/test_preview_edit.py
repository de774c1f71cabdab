"""Issue 16 through the emulator: ✏️ Edit on the previews of /newsurvey, /poll and /newtraining
(the list of fields, one changed with the dialog's own checks, back to the same preview showing
the new value), forged or stale edit buttons changing nothing, and the button answers of /newsurvey,
/poll, /newtraining, /newevent and /announce echoed under their questions ("… ✓")."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from handlers.surveys.callbacks import SurveyDialog
from handlers.trainings.callbacks import TrainingDraft
from storage.db import create_session_factory
from storage.models import Survey, SurveyQuestion, SurveyStatus, Training
from tests.e2e.conftest import Harness, buttons
from tests.e2e.helpers import plain
from tests.e2e.test_announce import composer, make_organizer
from tests.e2e.test_event_admin import no_quiet_hours
from tests.e2e.test_survey_admin import closing_day, make_coordinator
from tests.e2e.test_training_admin import make_coordinator as make_training_coordinator

CHECK = " ✓"


async def survey_rows(harness: Harness) -> list[tuple[Survey, list[SurveyQuestion]]]:
    async with create_session_factory(harness.app.engine)() as session:
        found = (await session.exec(select(Survey).order_by(Survey.id))).all()  # type: ignore[arg-type]
        rows = []
        for survey in found:
            questions = (
                await session.exec(
                    select(SurveyQuestion)
                    .where(SurveyQuestion.survey_id == survey.id)
                    .order_by(SurveyQuestion.position)  # type: ignore[arg-type]
                )
            ).all()
            rows.append((survey, list(questions)))
        return rows


async def chosen(harness: Harness, user: Any, message: dict[str, Any], label: str) -> dict[str, Any]:
    """Press the button labelled `label` (its English catalog text) and return the bot's next message."""
    await harness.press(user, message, harness.t(label, "en"))
    return await harness.reply(user)


def echoed(harness: Harness, user: Any, message: dict[str, Any], choice: str) -> None:
    """The question keeps its text, gets the choice under it, and loses its buttons."""
    now = harness.message(user, message["message_id"])
    assert now["text"] == message["text"] + "\n\n" + choice + CHECK, now["text"]
    assert not buttons(now)


async def test_poll_preview_edits_options_anonymity_not_forged(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    coordinator = await make_coordinator(harness, registered, "en")
    await registered("Kofi", "en")
    t = harness.t

    async def pick(message: dict[str, Any], label: str) -> dict[str, Any]:
        return await chosen(harness, coordinator, message, label)

    options = await harness.send(coordinator, "/poll")
    options = await harness.send(coordinator, "Tea or coffee?")
    so_far = await harness.send(coordinator, "Tea\nCofee")
    multiple = await pick(so_far, "Done")
    echoed(harness, coordinator, so_far, t("Done", "en"))
    anonymous = await pick(multiple, "One answer")
    echoed(harness, coordinator, multiple, t("One answer", "en"))
    closes = await pick(anonymous, "👤 With names")
    echoed(harness, coordinator, anonymous, t("👤 With names", "en"))
    confirm = await harness.send(coordinator, closing_day(3)[0])
    audience = await pick(confirm, "✅ Correct")
    echoed(harness, coordinator, confirm, t("✅ Correct", "en"))
    await pick(audience, "Everyone")
    echoed(harness, coordinator, audience, t("everyone", "en"))  # the audience in words
    card = await harness.reply(coordinator)
    assert closes["text"] and options["text"]
    assert t("✏️ Edit", "en") in buttons(card)
    ((poll, _),) = await survey_rows(harness)

    # ✏️ Edit → the list → the options: a repeated option is refused as in the dialog, then kept.
    listing = await pick(card, "✏️ Edit")
    assert listing["text"] == t("What do you want to change?", "en")
    labels = [
        t(label, "en") for label in ("Question", "Answer options", "Closing time", "Anonymity", "Audience")
    ]
    assert buttons(listing) == labels  # a quick poll has no title and no reminder
    prompt = await pick(listing, "Answer options")
    assert "one per line" in prompt["text"]
    refused = await harness.send(coordinator, "Tea\ntea")
    assert refused["text"] == plain(
        t("Each answer option must be different. Please send that message again.", "en")
    )
    assert (await harness.send(coordinator, "Tea\nCoffee\nWater"))["text"] == t("✅ Saved.", "en")
    card = await harness.reply(coordinator)
    assert "• Coffee" in card["text"] and "• Water" in card["text"] and "Cofee" not in card["text"]
    assert t("✏️ Edit", "en") in buttons(card)  # the same preview, with its buttons

    # Anonymity: the dialog's buttons again, the choice echoed, the card says it.
    listing = await pick(card, "✏️ Edit")
    question = await pick(listing, "Anonymity")
    assert buttons(question) == [t("🙈 Anonymous", "en"), t("👤 With names", "en")]
    assert (await pick(question, "🙈 Anonymous"))["text"] == t("✅ Saved.", "en")
    echoed(harness, coordinator, question, t("🙈 Anonymous", "en"))
    card = await harness.reply(coordinator)
    assert plain(t("<b>Answers:</b> {mode}", "en").format(mode=t("anonymous", "en"))) in card["text"]
    ((poll, (question_row,)),) = await survey_rows(harness)
    assert (poll.anonymous, question_row.options) == (True, ["Tea", "Coffee", "Water"])

    # Forged: a field the draft does not have, a reminder for a poll, a value never offered.
    stale = t("This button is no longer active.", "en")
    ident = poll.id or 0
    assert await harness.forge(coordinator, card, SurveyDialog(action="ef", id=ident, value="q7")) == stale
    assert (
        await harness.forge(coordinator, card, SurveyDialog(action="ef", id=ident, value="reminder")) == stale
    )
    forged_reminder = SurveyDialog(action="e_reminder", id=ident, value="24")
    assert await harness.forge(coordinator, card, forged_reminder) == stale
    assert (
        await harness.forge(coordinator, card, SurveyDialog(action="e_anon", id=ident, value="maybe"))
        == stale
    )

    # Published: the old card's ✏️ Edit and a setting button are stale, nothing changes.
    await pick(card, "📤 Publish")
    assert await harness.forge(coordinator, card, SurveyDialog(action="edit", id=ident)) == stale
    assert (
        await harness.forge(coordinator, card, SurveyDialog(action="e_anon", id=ident, value="no")) == stale
    )
    ((poll, (question_row,)),) = await survey_rows(harness)
    assert (poll.status, poll.anonymous, poll.reminder_before_minutes) == (SurveyStatus.OPEN, True, None)


async def test_survey_preview_edit_title_question_reminder_audience(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    coordinator = await make_coordinator(harness, registered, "en")
    await registered("Kofi", "en")
    await registered("Amina", "fr")
    t = harness.t

    async def pick(message: dict[str, Any], label: str) -> dict[str, Any]:
        return await chosen(harness, coordinator, message, label)

    await harness.send(coordinator, "/newsurvey")
    kind = await harness.send(coordinator, "Short chek-in")
    await harness.choose(coordinator, kind, t("👍 Yes / no", "en"))
    echoed(harness, coordinator, kind, t("👍 Yes / no", "en"))
    more = await pick(await harness.send(coordinator, "All good?"), "Required")
    anonymous = await pick(more, "✅ That's all")
    audience = await pick(anonymous, "👤 With names")
    opens = await pick(audience, "Everyone")
    await pick(opens, "When I publish it")
    echoed(harness, coordinator, opens, t("When I publish it", "en"))
    reminder = await pick(await harness.send(coordinator, closing_day(5)[0]), "✅ Correct")
    await harness.choose(coordinator, reminder, t("No reminder", "en"))
    echoed(harness, coordinator, reminder, t("No reminder", "en"))
    card = await harness.reply(coordinator)

    listing = await pick(card, "✏️ Edit")
    assert buttons(listing)[:2] == [t("Title", "en"), t("Question {number}", "en").format(number=1)]
    await pick(listing, "Title")
    assert (await harness.send(coordinator, "Short check-in"))["text"] == t("✅ Saved.", "en")
    card = await harness.reply(coordinator)
    assert card["text"].startswith("📋 Short check-in ")

    listing = await pick(card, "✏️ Edit")
    await pick(listing, f"Question {1}")
    too_long = await harness.send(coordinator, "Q" * 301)
    assert too_long["text"] == t(
        "That question is too long: at most {limit} characters. Please send a shorter one.", "en", limit=300
    )
    await harness.send(coordinator, "Is all well?")
    card = await harness.reply(coordinator)
    assert "Is all well?" in card["text"]

    listing = await pick(card, "✏️ Edit")
    question = await pick(listing, "Reminder")
    await pick(question, "2 hours before")
    card = await harness.reply(coordinator)
    assert plain(t("<b>Reminder:</b> {when}", "en")).format(when="2 hours before closing") in card["text"]

    # The audience: the dialog's picker, on the draft; the card tells whom and how many.
    listing = await pick(card, "✏️ Edit")
    question = await pick(listing, "Audience")
    await harness.press(coordinator, question, t("Choose…", "en"))
    await harness.press(coordinator, harness.message(coordinator, question["message_id"]), "▫️ Français")
    await pick(harness.message(coordinator, question["message_id"]), "Done")
    assert harness.message(coordinator, question["message_id"])["text"].endswith("Français" + CHECK)
    card = await harness.reply(coordinator)
    assert plain(t("<b>Audience:</b> {audience}", "en")).format(audience="Français") in card["text"]
    reach = t("It reaches <b>{count}</b> member.", "en", "It reaches <b>{count}</b> members.", 1, count=1)
    assert plain(reach) in card["text"]
    ((survey, (question_row,)),) = await survey_rows(harness)
    assert (survey.title, question_row.text, survey.reminder_before_minutes, survey.audience) == (
        "Short check-in",
        "Is all well?",
        120,
        {"languages": ["fr"]},
    )


async def test_training_preview_edits_title_seats_languages_not_forged(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    coordinator = await make_training_coordinator(harness, registered, "Grace", "en")
    t = harness.t
    stale = t("This button is no longer active.", "en")

    async def pick(message: dict[str, Any], label: str) -> dict[str, Any]:
        return await chosen(harness, coordinator, message, label)

    await harness.send(coordinator, "/newtraining")
    await harness.send(coordinator, "Budget basiks")
    languages = await harness.send(coordinator, "Money for associations, step by step.")
    await harness.press(coordinator, languages, "▫️ English")
    await pick(harness.message(coordinator, languages["message_id"]), "Done")
    echoed(harness, coordinator, languages, "English")  # the languages ticked, in words
    confirm = await harness.send(coordinator, "Kwame")
    confirm = await harness.send(coordinator, "2099-05-01 10:00")
    duration = await pick(confirm, "✅ Correct")
    echoed(harness, coordinator, confirm, t("✅ Correct", "en"))
    await pick(duration, "1 hour")
    echoed(harness, coordinator, duration, "1 hour")
    await pick(await harness.send(coordinator, "Room 4"), "Done")
    deadline = await harness.send(coordinator, "5")
    questions = await pick(deadline, "Skip")
    echoed(harness, coordinator, deadline, t("Skip", "en"))
    translations = await pick(questions, "No questions")
    audience = await pick(translations, "No translations")
    preview = await pick(audience, "Everyone")
    assert preview["text"].startswith(t("👁 Preview. Nothing is sent until you press Publish.", "en"))
    audience_line = plain(t("<b>Audience:</b> {audience}", "en").format(audience=t("everyone", "en")))
    assert audience_line in preview["text"]

    # The title: the dialog's own question and check, then the same preview with the new title.
    listing = await pick(preview, "✏️ Edit")
    old_list = listing
    assert t("Seats", "en") in buttons(listing) and t("Sessions", "en") in buttons(listing)
    question = await pick(listing, "Title")
    assert question["text"].startswith("🎓 ")  # the dialog's own question
    # A field button of the list, pressed while another field is being changed, is stale.
    assert await harness.forge(coordinator, old_list, TrainingDraft(action="ef", value="capacity")) == stale
    refused = await harness.send(coordinator, "T" * 201)
    assert "200" in refused["text"]
    preview = await harness.send(coordinator, "Budget basics")
    assert preview["text"].startswith(t("👁 Preview. Nothing is sent until you press Publish.", "en"))
    assert "🎓 Budget basics" in preview["text"] and "basiks" not in preview["text"]

    # The seats: refused as in the dialog, then kept.
    await pick(await pick(preview, "✏️ Edit"), "Seats")
    zero = await harness.send(coordinator, "0")
    assert not zero["text"].startswith("👁") and "0" not in buttons(zero)  # refused, the step waits
    preview = await harness.send(coordinator, "12")
    assert t("🎟 Seats: {count}", "en").format(count=12) in preview["text"]

    # The languages: the dialog's picker, the choice echoed, the preview again.
    picker = await pick(await pick(preview, "✏️ Edit"), "Languages")
    await harness.press(coordinator, picker, "▫️ Français")
    preview = await pick(harness.message(coordinator, picker["message_id"]), "Done")
    echoed(harness, coordinator, picker, "English, Français")
    assert t("🗣 Taught in: {languages}", "en").format(languages="English, Français") in preview["text"]

    # Forged: a field the list never offers.
    assert await harness.forge(coordinator, preview, TrainingDraft(action="ef", value="nope")) == stale
    await pick(preview, "📤 Publish")
    async with create_session_factory(harness.app.engine)() as session:
        (training,) = (await session.exec(select(Training))).all()
    assert (training.title, training.capacity, training.teaching_languages) == (
        "Budget basics",
        12,
        ["en", "fr"],
    )


async def test_newevent_and_announce_echo_their_choices(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    organizer = await make_organizer(harness, registered, "en")
    await no_quiet_hours(harness)

    await harness.send(organizer, "/newevent")
    described = await harness.send(organizer, "Language café")
    await harness.choose(organizer, described, "Skip")
    echoed(harness, organizer, described, "Skip")
    confirm = await harness.send(organizer, "14/03/2099 6:30pm")
    await harness.choose(organizer, confirm, "✅ Correct")
    echoed(harness, organizer, confirm, "✅ Correct")
    await harness.send(organizer, "20:00")
    question = await harness.send(organizer, "Café Lumière")
    await harness.choose(organizer, question, "No limit")
    echoed(harness, organizer, question, "No limit")
    reminders = await harness.send(organizer, "2099-03-14 12:00")
    audience = await harness.choose(organizer, reminders, "1 hour before")
    echoed(harness, organizer, reminders, "1 hour before")
    await harness.choose(organizer, audience, "Everyone")
    echoed(harness, organizer, audience, "everyone")

    card = await composer(harness, organizer, "Concert tonight")
    topics = await harness.choose(organizer, card, "🏷 Topic")
    await harness.choose(organizer, topics, "🎭 Culture")
    echoed(harness, organizer, topics, "🎭 Culture")
