"""📝 The written answers to a free-text question, a page at a time (each shown clipped so a page
fits in one message); ◀️ / ▶️ turn the page in place."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Router
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.i18n import _
from bot.services.surveys.building import question_in
from bot.services.surveys.languages import question_text
from bot.services.surveys.results import text_answers
from bot.views.surveys import clip
from handlers.composer import Turn
from handlers.surveys.callbacks import SurveyManage
from handlers.surveys.lookups import results_button
from handlers.surveys.views import replace_text
from storage.models import QuestionKind, Survey, SurveyQuestion
from storage.types import ROW_ID_MAX

router: Final[Router] = Router(name=__name__)

TEXTS_PAGE = 8  # written answers per page
ANSWER_SHOWN = 400  # UTF-16 code units of each written answer in the list (8 × 400 fit in a message)


@results_button(router, "texts")
async def written_answers(turn: Turn, survey: Survey, button: SurveyManage) -> None:
    """A page of answers: in place when pressed under a page, else as a new message."""
    question = await question_in(turn.ctx.session, survey, button.question)
    if question is None or question.kind != QuestionKind.TEXT:
        turn.stale()
        return
    text, keyboard = await _texts_page(turn.ctx, question, survey, button.page)
    if turn.message is not None and (turn.message.text or "").startswith("📝"):
        await replace_text(turn.message, text, keyboard)
    else:
        await turn.say(text, keyboard)


async def _texts_page(
    ctx: Context, question: SurveyQuestion, survey: Survey, offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    offset = min(max(offset, 0), ROW_ID_MAX)
    answers, total = await text_answers(ctx.session, question, offset, TEXTS_PAGE)
    if not answers and offset > 0:  # fewer answers than when the button was sent
        offset = 0
        answers, total = await text_answers(ctx.session, question, 0, TEXTS_PAGE)
    text_of, _options = question_text(question, ctx.locale)
    lines = [f"📝 <b>{question.position + 1}. {escape(text_of)}</b>"]
    if not answers:
        lines.append(_("No written answers yet."))
        return "\n".join(lines), None
    lines.append(
        _("Answers {first}–{last} of {total}").format(
            first=offset + 1, last=offset + len(answers), total=total
        )
    )
    for answer in answers:
        lines += ["", f"• {escape(clip(answer, ANSWER_SHOWN))}"]
    builder = InlineKeyboardBuilder()
    ident, question_id = survey.id or 0, question.id or 0
    if offset > 0:
        builder.button(
            text=_("◀️ Previous"),
            callback_data=SurveyManage(
                action="texts", id=ident, question=question_id, page=max(0, offset - TEXTS_PAGE)
            ),
        )
    if offset + TEXTS_PAGE < total:
        builder.button(
            text=_("Next ▶️"),
            callback_data=SurveyManage(
                action="texts", id=ident, question=question_id, page=offset + TEXTS_PAGE
            ),
        )
    markup = builder.as_markup() if list(builder.buttons) else None
    return "\n".join(lines), markup
