"""The draft survey or quick poll on the composer kit: its card (after /poll and /newsurvey, a
duplicate, a translation, or opened from /results), its translation (the title, each question and
each answer option, one per message: several options may come one per line), Publish (the
audience invited through the outbox, once) and Discard.

A quick poll is translated like a survey, without a title (its title is its question): each member
gets Telegram's poll in their language when a version exists (`bot.delivery.surveys`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Final

from aiogram import Router

from bot.i18n import _, language_name, ngettext
from bot.policy import Action
from bot.services.surveys.building import questions_of
from bot.services.surveys.drafts import delete_draft, more_options, set_translation
from bot.services.surveys.publish import publish
from bot.services.surveys.rules import SurveyError
from handlers.composer import (
    Composer,
    Item,
    Published,
    Turn,
    draft_button,
    organization_line,
    preview_keyboard,
)
from handlers.surveys import edit
from handlers.surveys.callbacks import SurveyDialog
from handlers.surveys.states import SurveyDialogStates
from handlers.surveys.steps import ask_closing
from handlers.surveys.texts import ANY_TEXT, QUESTION_TEXT, TITLE_TEXT, error_text, gone
from handlers.surveys.views import draft_card
from storage.models import Survey, SurveyQuestion, SurveyStatus
from storage.types import utcnow

OPTION_KEY: Final = re.compile(r"q(\d+)o(\d+)")


@dataclass(frozen=True)
class SurveyDraft:
    """A draft with its questions (the kit's `items` is synchronous)."""

    survey: Survey
    questions: list[SurveyQuestion]


def option_key(question: int, option: int) -> str:
    """The translation item of a question's option (both counted from 0); `OPTION_KEY` reads it."""
    return f"q{question}o{option}"


async def show_card(turn: Turn, survey: Survey, zone: str | None = None) -> None:
    """The draft's settings and questions, with Publish, ✏️ Edit, Add a translation and Discard."""
    ctx = turn.ctx
    card = await draft_card(ctx.session, survey, ctx.organization, ctx.locale, zone or ctx.zone)
    if line := await organization_line(ctx.session, survey.organization_id):
        card = line + "\n\n" + card
    await turn.say(card, preview_keyboard(COMPOSER, survey.id or 0, edit_label=_("✏️ Edit")))


class SurveyComposer(Composer[SurveyDraft]):
    name = "survey"
    action = Action.RUN_SURVEYS
    button_class = SurveyDialog

    async def load(self, turn: Turn, ident: int, use: str) -> SurveyDraft | None:
        """A draft (its card's buttons are stale once it is published or discarded)."""
        survey = await turn.ctx.load(Action.RUN_SURVEYS, Survey, ident)
        if survey is None or survey.status != SurveyStatus.DRAFT:
            return None
        return SurveyDraft(survey, await questions_of(turn.ctx.session, survey.id or 0))

    def ident(self, draft: SurveyDraft) -> int:
        return draft.survey.id or 0

    def gone(self) -> str:
        return gone()

    def source_language(self, draft: SurveyDraft) -> str:
        return draft.survey.language

    def translated(self, draft: SurveyDraft) -> list[str]:
        return list(draft.survey.translations)

    async def show_preview(self, turn: Turn, draft: SurveyDraft) -> None:
        await show_card(turn, draft.survey)

    # -- translations ---------------------------------------------------------------------------

    def items(self, draft: SurveyDraft, language: str) -> list[Item]:
        """The title (not a poll's: its question is its title), then each question and each of
        its options, in order."""
        name = language_name(language)

        def original(text: str) -> str:
            return f"<i>{escape(text)}</i>"

        items = []
        if not draft.survey.native_poll:
            prompt = _("Send the title in {language}. The original: {original}")
            items.append(
                Item(
                    "title",
                    prompt.format(language=name, original=original(draft.survey.title)),
                    TITLE_TEXT,
                )
            )
        for index, question in enumerate(draft.questions):
            prompt = _("Question {number} in {language}. The original: {original}")
            text = prompt.format(number=index + 1, language=name, original=original(question.text))
            items.append(Item(f"q{index}", text, QUESTION_TEXT))
            for position, option in enumerate(question.options):
                prompt = _(
                    "Answer option {option} of question {number} in {language}. The original: {original}"
                )
                text = prompt.format(
                    option=position + 1, number=index + 1, language=name, original=original(option)
                )
                items.append(Item(option_key(index, position), text, ANY_TEXT))
        return items

    def originals(self, draft: SurveyDraft) -> dict[str, str | None]:
        texts: dict[str, str | None] = {"title": draft.survey.title}
        for index, question in enumerate(draft.questions):
            texts[f"q{index}"] = question.text
            texts.update((option_key(index, at), option) for at, option in enumerate(question.options))
        return texts

    def translation_answer(
        self, draft: SurveyDraft, language: str, answers: dict[str, str | None], item: Item, text: str
    ) -> dict[str, str | None] | str:
        """An option is checked like those typed in the dialog (length, repeated); a message of
        several lines answers as many options of the question, in order."""
        option = OPTION_KEY.fullmatch(item.key)
        if option is None:
            return {item.key: text}
        index, position = int(option[1]), int(option[2])
        left = [option_key(index, later) for later in range(position, len(draft.questions[index].options))]
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > len(left):
            return ngettext(
                "Only {count} answer option of question {number} is left to translate. "
                "Please send that message again.",
                "Only {count} answer options of question {number} are left to translate. "
                "Please send that message again.",
                len(left),
            ).format(count=len(left), number=index + 1)
        earlier = [str(answers[option_key(index, before)]) for before in range(position)]
        try:
            options = more_options(earlier, "\n".join(lines))
        except SurveyError as error:
            return error_text(error)
        return dict(zip(left, options[position:], strict=False))

    async def save_translation(
        self, turn: Turn, draft: SurveyDraft, language: str, answers: dict[str, str | None]
    ) -> str | None:
        versions = []
        for index, question in enumerate(draft.questions):
            version: dict[str, object] = {"text": answers[f"q{index}"]}
            if question.options:
                version["options"] = [
                    answers[option_key(index, position)] for position in range(len(question.options))
                ]
            versions.append(version)
        title = answers.get("title") or str(versions[0]["text"])  # a quick poll's title is its question
        try:
            await set_translation(turn.ctx.session, draft.survey, language, title, versions)
        except SurveyError as error:
            await turn.ctx.session.rollback()
            return error_text(error)
        return None

    # -- ✏️ Edit (`edit`) ------------------------------------------------------------------------

    def fields(self, draft: SurveyDraft) -> list[Item]:
        return edit.fields(draft.survey, draft.questions)

    async def pick_field(self, turn: Turn, draft: SurveyDraft, key: str) -> bool:
        return await edit.pick(turn, draft.survey, key)

    async def save_field(self, turn: Turn, draft: SurveyDraft, key: str, value: str | None) -> str | None:
        return await edit.save(turn, draft.survey, key, value)

    async def field_saved(self, turn: Turn, draft: SurveyDraft, key: str) -> None:
        await turn.say(edit.saved_text(turn))
        await show_card(turn, draft.survey)

    # -- publish and discard --------------------------------------------------------------------

    async def publish(self, turn: Turn, draft: SurveyDraft) -> Published:
        """Members are invited (from the opening time); a closing time already past is asked
        again. The claim is `open_survey`'s conditional update: a second tap finds it open."""
        survey, session = draft.survey, turn.ctx.session
        if survey.closes_at is None or survey.closes_at <= utcnow():
            await turn.say(error_text(SurveyError("bad_times")))
            await ask_closing(turn, "copy", survey)
            return Published.TOLD
        try:
            invited = await publish(session, survey, utcnow())
        except SurveyError as error:
            await session.rollback()
            if error.reason == "not_editable":
                return Published.TAKEN
            turn.toast(error_text(error), alert=True)
            return Published.TOLD
        published = ngettext(
            "📤 Published: {count} member is invited.", "📤 Published: {count} members are invited.", invited
        )
        await turn.say(
            published.format(count=invited) + "\n" + _("/results shows the answers as they come in.")
        )
        if turn.delivery is not None:
            turn.delivery.wake()
        return Published.SENT

    async def after_publish(self, turn: Turn, draft: SurveyDraft) -> None:
        """The card says what the survey is now (open), without buttons."""
        if turn.message is None or turn.message.text is None:
            await super().after_publish(turn, draft)
            return
        ctx = turn.ctx
        card = await draft_card(ctx.session, draft.survey, ctx.organization, ctx.locale, ctx.zone)
        await turn.replace(card)

    async def discard(self, turn: Turn, draft: SurveyDraft) -> None:
        await delete_draft(turn.ctx.session, draft.survey)


COMPOSER: Final = SurveyComposer(SurveyDialogStates.translation, SurveyDialogStates.edit_value)

# The settings ✏️ Edit offers as the dialog's buttons, on the draft (the kit loads it like its own).
router: Final[Router] = Router(name=__name__)


@draft_button(COMPOSER, router, *edit.ACTIONS)
async def setting_chosen(turn: Turn, draft: SurveyDraft, callback_data: SurveyDialog) -> None:
    """Anonymity, the reminder or the audience of a draft; a value never offered is stale."""
    kept = await edit.choose_setting(turn, draft.survey, callback_data.action, callback_data.value)
    if kept is False:
        turn.stale()
    elif kept:
        await COMPOSER.field_saved(turn, draft, callback_data.action)
