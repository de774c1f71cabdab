"""/newtraining on the composer kit: the draft kept in the FSM data (loaded for every button and
typed step of the dialog, and only in the steps that take them), the title and description to
translate, the preview with the number of members it reaches, Publish (the training is created and
published in one transaction, everything checked again) and Discard, and what undoes a step that
took the first part of a text Telegram cut.

The kit's translation flow replaces the dialog's own: the translations step lists the languages
(`tr`), the kit asks for the title, then the description or Skip (`tr_skip`), one per message,
and the translations step is asked again."""

from __future__ import annotations

from typing import Any, Final

from bot.i18n import _, language_name, ngettext
from bot.policy import Action
from bot.services import events as event_rules
from bot.services.events import EventError
from bot.services.trainings.create import create_training, publish_training
from bot.services.trainings.notices import count_audience_of
from bot.services.trainings.rules import SessionInput, TrainingError
from handlers.composer import Codes, Composer, Item, Published, Turn, organization_line, preview_keyboard
from handlers.composer.suggest import CHECKED, SUGGEST
from handlers.trainings import edit
from handlers.trainings.callbacks import TrainingDraft
from handlers.trainings.new_training_steps import EDITING, STEPS, ask, step_of
from handlers.trainings.states import DraftStates
from handlers.trainings.texts import error_text, text_rule
from handlers.trainings.training_draft import Draft, expired, moment, preview_text, saved_draft
from storage.types import utcnow

S = DraftStates
UNDO_KEY: Final = "training_undo"  # FSM data: the step and draft before a text that may be cut
# The kit's steps: its typed translation items (and their Skip), and the preview's buttons.
step_of(S.translation_title).buttons = frozenset({"translation"})
step_of(S.preview).buttons = frozenset({"publish", "discard", "edit", "ef", CHECKED})
step_of(S.translations).buttons |= {SUGGEST, CHECKED}


class TrainingComposer(Composer[Draft]):
    name = "training"
    action = Action.MANAGE_TRAININGS
    button_class = TrainingDraft
    codes = Codes(language="tr")

    async def load(self, turn: Turn, ident: int, use: str) -> Draft | None:
        """The draft, if the dialog is at a step where the button `use` counts (the step's name
        goes in `turn.data`); "translation" counts while the kit asks for translated texts."""
        current = await turn.state.get_state() or ""
        step = STEPS.get(current)
        if step is None or use not in step.buttons:
            return None
        turn.data["step"] = current
        return await saved_draft(turn.state)

    def gone(self) -> str:
        return expired()

    # -- translations -------------------------------------------------------------------------

    def source_language(self, draft: Draft) -> str:
        return str(draft.get("language") or "")

    def translated(self, draft: Draft) -> list[str]:
        return list(draft.get("translations") or {})

    def items(self, draft: Draft, language: str) -> list[Item]:
        name = language_name(language)
        title = _("Send the title in {language} (at most {limit} characters).")
        description = _("Now the description in {language}, or press Skip to show the original one.")
        limit, most = event_rules.TITLE_MAX, event_rules.DESCRIPTION_MAX
        return [
            Item(
                "title",
                title.format(language=name, limit=limit),
                text_rule(limit, "title_too_long", "title_empty"),
            ),
            Item(
                "description",
                description.format(language=name),
                text_rule(most, "description_too_long", optional=True),
            ),
        ]

    def originals(self, draft: Draft) -> dict[str, str | None]:
        return {"title": draft.get("title"), "description": draft.get("description") or None}

    async def save_translation(
        self, turn: Turn, draft: Draft, language: str, answers: dict[str, str | None]
    ) -> str | None:
        entry = {"title": event_rules.validate_title(answers["title"] or "")}
        if description := event_rules.validate_description(answers.get("description")):
            entry["description"] = description
        draft["translations"] = {**(draft.get("translations") or {}), language: entry}
        await turn.state.update_data(training=draft)
        return None

    async def translation_saved(self, turn: Turn, draft: Draft, language: str) -> None:
        await ask(turn, S.translations, draft)

    async def suggestions_saved(self, turn: Turn, draft: Draft) -> None:
        await ask(turn, S.translations, draft)

    # -- ✏️ Edit (`edit`: the dialog's own steps) ---------------------------------------------------

    def fields(self, draft: Draft) -> list[Item]:
        return edit.fields()

    async def pick_field(self, turn: Turn, draft: Draft, key: str) -> bool:
        await edit.reopen(turn, draft, key)
        return False

    # -- preview, publish, discard ------------------------------------------------------------

    async def show_preview(self, turn: Turn, draft: Draft) -> None:
        """The whole training and how many members it reaches (also where an edit ends)."""
        if draft.pop(EDITING, None) is not None:
            await turn.state.update_data(training=draft)
        count = await count_audience_of(
            turn.ctx.session, turn.ctx.organization_id, draft.get("audience") or {}
        )
        await turn.state.set_state(S.preview)
        header = (
            _("👁 Preview. Nothing is sent until you press Publish.")
            + "\n"
            + ngettext(
                "This training reaches <b>{count}</b> member.",
                "This training reaches <b>{count}</b> members.",
                count,
            ).format(count=count)
        )
        if line := await organization_line(turn.ctx.session, turn.ctx.organization_id):
            header = line + "\n" + header
        keyboard = preview_keyboard(self, 0, translate=False, edit_label=_("✏️ Edit"))
        await turn.say(header + "\n\n" + preview_text(draft), keyboard)

    async def publish(self, turn: Turn, draft: Draft) -> Published:
        """Create the training and publish it, in one transaction; everything is checked again.
        The FSM draft is cleared with it, so a second tap finds nothing to publish."""
        ctx, now = turn.ctx, utcnow()
        if not draft.get("title") or not draft.get("sessions") or not draft.get("capacity"):
            await turn.state.clear()
            await turn.say(expired())
            return Published.TOLD
        try:
            values = fields(draft, ctx.organization.default_language)
            training = await create_training(ctx.session, ctx.organization, ctx.member, now=now, **values)
            told = await publish_training(ctx.session, training, ctx.organization, now)
        except (TrainingError, EventError) as error:
            await ctx.session.rollback()
            turn.toast(error_text(error), alert=True)
            return Published.TOLD
        await turn.state.clear()
        await ctx.session.commit()
        await turn.say(
            ngettext(
                "📤 Published: {count} member will be told.",
                "📤 Published: {count} members will be told.",
                told,
            ).format(count=told)
            + "\n"
            + _("/managetrainings shows the sign-ups, attendance and more.")
        )
        if turn.delivery is not None:
            turn.delivery.wake()
        return Published.SENT

    async def discard(self, turn: Turn, draft: Draft) -> None:
        await turn.state.clear()

    # -- a text Telegram cut ------------------------------------------------------------------

    async def text_was_cut(self, turn: Turn, ident: int) -> None:
        """The step that took the first part is asked again, its draft as before (the question
        above is still in the chat; the kit says why)."""
        undo = (await turn.state.get_data()).get(UNDO_KEY)
        if isinstance(undo, dict) and isinstance(undo.get("draft"), dict):
            await turn.state.set_state(undo.get("step"))
            await turn.state.update_data({"training": undo["draft"], UNDO_KEY: None})


def fields(draft: Draft, default_language: str) -> dict[str, Any]:
    """`create_training`'s keywords from the draft (checked again there)."""
    return {
        "title": draft["title"],
        "description": draft.get("description") or "",
        "language": draft.get("language") or default_language,
        "teaching_languages": list(draft.get("teaching") or []),
        "trainer": draft.get("trainer") or "",
        "capacity": int(draft["capacity"]),
        "signup_deadline": moment(draft.get("deadline")),
        "timezone": draft["zone"],
        "questions": list(draft.get("questions") or []),
        "translations": dict(draft.get("translations") or {}),
        "audience": dict(draft.get("audience") or {}),
        "sessions": [
            SessionInput(
                starts_at=moment(item["starts_at"]),  # type: ignore[arg-type]
                duration_minutes=int(item["duration"]),
                place=item.get("place"),
                online_url=item.get("online_url"),
            )
            for item in draft["sessions"]
        ],
    }


COMPOSER: Final = TrainingComposer(S.translation_title, resting=S.translations)
step_of(S.preview).show = COMPOSER.show_preview  # where a field ✏️ Edit reopened ends
