"""/myevents: the organization's upcoming events (drafts too), each opening its management card;
cancelling an event (everyone who answered is told) and how to post it in a group."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _, ngettext
from bot.policy import Action
from bot.services import events as service
from bot.views.events import when_text
from handlers.composer import staff_dialog
from handlers.events.callbacks import EventAdmin
from handlers.events.common import MANAGE, ON_EVENT, send_manage, show
from handlers.events.texts import event_title
from handlers.events.views import admin_keyboard, list_page
from storage.models import Event
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")


@staff_dialog(router, "myevents", Action.MANAGE_EVENTS)
async def my_events(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    text, keyboard = await list_page(ctx.session, ctx.organization, 0, ctx.locale, ctx.zone)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(EventAdmin.filter(F.action == "page"), flags=MANAGE)
async def turn_page(query: CallbackQuery, callback_data: EventAdmin, ctx: Context) -> None:
    if isinstance(query.message, Message):
        text, keyboard = await list_page(
            ctx.session,
            ctx.organization,
            callback_data.id,
            ctx.locale,
            ctx.zone,
            past=callback_data.value == "past",
        )
        await query.message.edit_text(text, reply_markup=keyboard)


@router.callback_query(EventAdmin.filter(F.action == "open"), flags=ON_EVENT)
async def open_event(query: CallbackQuery, event: Event, ctx: Context, bot: Bot) -> None:
    await send_manage(bot, query.from_user.id, ctx, event)


@router.callback_query(EventAdmin.filter(F.action == "cancel"), flags=ON_EVENT)
async def ask_cancel(query: CallbackQuery, event: Event, ctx: Context, bot: Bot) -> None:
    choices = [(_("✖ Yes, cancel it"), "cancel_yes", ""), (_("← No, keep it"), "keep", "")]
    await bot.send_message(
        query.from_user.id,
        _("Cancel “{title}” on {when}? Everyone who answered will be told.").format(
            title=escape(event_title(event, ctx.locale, ctx.organization)),
            when=escape(when_text(event, ctx.locale, ctx.zone)),
        ),
        reply_markup=admin_keyboard(event.id or 0, choices),
    )


@router.callback_query(EventAdmin.filter(F.action == "keep"), flags=ON_EVENT)
async def keep_event(query: CallbackQuery) -> None:
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Nothing was changed."))


@router.callback_query(EventAdmin.filter(F.action == "cancel_yes"), flags=ON_EVENT)
async def cancel_event(
    query: CallbackQuery, event: Event, ctx: Context, delivery: DeliveryEngine, bot: Bot
) -> None:
    told = await service.cancel_event(ctx.session, event, ctx.organization, utcnow())
    await ctx.session.commit()
    text = ngettext(
        "✖ “{title}” is cancelled. {count} member who answered is told.",
        "✖ “{title}” is cancelled. {count} members who answered are told.",
        told,
    ).format(title=escape(event_title(event, ctx.locale, ctx.organization)), count=told)
    await show(query, bot, text)
    if told:
        delivery.wake()


@router.callback_query(EventAdmin.filter(F.action == "group"), flags=ON_EVENT)
async def how_to_post(query: CallbackQuery, event: Event, bot: Bot) -> None:
    await bot.send_message(
        query.from_user.id,
        _(
            "📢 To post this event in a group chat:\n"
            "1. Add me to the group.\n"
            "2. In the group, send <code>/postevent {id}</code>\n\n"
            "Only organizers can post events there. Members answer with the buttons under the post."
        ).format(id=event.id or 0),
    )
