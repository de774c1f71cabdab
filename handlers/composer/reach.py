"""Confederation-wide reach on the audience step, for super-admins only: "All organizations",
"Organizations active in <country>" (a list of the countries organizations are active in) and
"Choose organizations…" (a toggle list, page by page), under the interests and languages of the
kit's picker; "Only this organization" takes the reach away.

Every capability routes the same action codes (`CODES`) to `reach_choice`, which checks on the
server that the person pressing is a super-admin (a forged button of anyone else changes nothing)
and that the country or organization is one offered. Sending checks again: a row whose audience
reaches other organizations is the super-admins' alone (`bot.context.Context.may`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.i18n import _, ngettext
from bot.services.geo import country_name
from bot.services.origins import shows_origins
from bot.services.reach import (
    chosen_organizations,
    reach_countries,
    reach_of,
    reach_organizations,
    toggled_organization,
    with_reach,
)
from handlers.composer.spec import Turn
from handlers.ui import locale_now

Button = Callable[..., CallbackData]  # the capability's callback data: Button(action=..., value=...)
Picker = Callable[[dict[str, Any]], InlineKeyboardMarkup]  # the picker's keyboard for an audience
# "rch": all (again: off) / none / back; "rch_cp", "rch_op": a page of countries or organizations (value: the
# page); "rch_c": a country (value: its code); "rch_o": an organization toggled ("<id>.<page>").
CODES: Final = ("rch", "rch_cp", "rch_c", "rch_op", "rch_o")
PAGE: Final = 8  # organizations (and twice as many countries) per page


async def offers_reach(ctx: Context) -> bool:
    """Super-admins, in a deployment of several active organizations."""
    return ctx.actor is not None and ctx.actor.is_super_admin and await shows_origins(ctx.session)


def reach_rows(audience: dict[str, Any], button: Button) -> list[list[tuple[str, CallbackData]]]:
    """The picker's rows for the reach, the current one ticked."""
    reach, locale = reach_of(audience), locale_now()
    chosen = chosen_organizations(audience)
    everyone = ("✅ " if reach.get("all") else "") + _("🌐 All organizations")
    country = (
        "✅ " + _("🌍 Active in {country}").format(country=country_name(reach["country"], locale))
        if reach.get("country")
        else _("🌍 Organizations active in…")
    )
    organizations = (
        "✅ " + _("🏛 Chosen organizations: {count}").format(count=len(chosen))
        if chosen
        else _("🏛 Choose organizations…")
    )
    rows = [
        [(everyone, button(action="rch", value="all"))],
        [(country, button(action="rch_cp", value="0"))],
        [(organizations, button(action="rch_op", value="0"))],
    ]
    if reach:
        rows.append([(_("↩️ Only this organization"), button(action="rch", value="none"))])
    return rows


def reach_summary(audience: dict[str, Any]) -> str | None:
    """The reach in words for a preview card (not escaped), None when there is none."""
    reach = reach_of(audience)
    if reach.get("all"):
        return _("all organizations")
    if reach.get("country"):
        return _("organizations active in {country}").format(
            country=country_name(reach["country"], locale_now())
        )
    if chosen := chosen_organizations(audience):
        return ngettext("{count} chosen organization", "{count} chosen organizations", len(chosen)).format(
            count=len(chosen)
        )
    return None


def _page(value: str, total: int, size: int) -> int:
    page = int(value) if value.isdigit() and len(value) < 4 else 0
    return max(0, min(page, (max(total, 1) - 1) // size))


def _navigation(builder: InlineKeyboardBuilder, button: Button, action: str, page: int, pages: int) -> int:
    """◀ ▶ between pages; how many buttons were added."""
    added = 0
    if page > 0:
        builder.button(text="◀", callback_data=button(action=action, value=str(page - 1)))
        added += 1
    if page + 1 < pages:
        builder.button(text="▶", callback_data=button(action=action, value=str(page + 1)))
        added += 1
    return added


def countries_keyboard(countries: list[str], page: int, button: Button) -> InlineKeyboardMarkup:
    size, locale = PAGE * 2, locale_now()
    names = sorted(((country_name(code, locale), code) for code in countries), key=lambda item: item[0])
    shown = names[page * size : (page + 1) * size]
    builder = InlineKeyboardBuilder()
    for name, code in shown:
        builder.button(text=name, callback_data=button(action="rch_c", value=code))
    navigation = _navigation(builder, button, "rch_cp", page, (len(names) + size - 1) // size)
    builder.button(text=_("← Back"), callback_data=button(action="rch", value="back"))
    builder.adjust(
        *[2] * (len(shown) // 2), *([1] if len(shown) % 2 else []), *([navigation] if navigation else []), 1
    )
    return builder.as_markup()


def organizations_keyboard(
    organizations: list[tuple[int, str]], chosen: list[int], page: int, button: Button
) -> InlineKeyboardMarkup:
    shown = organizations[page * PAGE : (page + 1) * PAGE]
    builder = InlineKeyboardBuilder()
    for ident, name in shown:
        mark = "✅" if ident in chosen else "▫️"
        label = f"{mark} {name}"
        builder.button(
            text=label if len(label) <= 40 else label[:39] + "…",
            callback_data=button(action="rch_o", value=f"{ident}.{page}"),
        )
    navigation = _navigation(builder, button, "rch_op", page, (len(organizations) + PAGE - 1) // PAGE)
    builder.button(text=_("Done"), callback_data=button(action="rch", value="back"))
    builder.adjust(*[1] * len(shown), *([navigation] if navigation else []), 1)
    return builder.as_markup()


async def reach_choice(
    turn: Turn, audience: dict[str, Any], action: str, value: str, button: Button, picker: Picker
) -> dict[str, Any] | None:
    """What a reach button does: the audience after it (unchanged while a list is turned), its
    keyboard shown on the pressed message; None for someone who is not a super-admin, or a
    country or organization not offered (forged): nothing changes."""
    if action not in CODES or not await offers_reach(turn.ctx):
        return None
    session, keyboard = turn.ctx.session, None
    if action == "rch" and value in ("all", "none", "back"):
        if value != "back":  # "All organizations" pressed again takes it back
            everyone = value == "all" and not reach_of(audience).get("all")
            audience = with_reach(audience, {"all": True} if everyone else None)
        keyboard = picker(audience)
    elif action in ("rch_cp", "rch_c"):
        countries = await reach_countries(session)
        if action == "rch_c":
            if value not in countries:
                return None
            audience = with_reach(audience, {"country": value})
            keyboard = picker(audience)
        else:
            keyboard = countries_keyboard(countries, _page(value, len(countries), PAGE * 2), button)
    elif action in ("rch_op", "rch_o"):
        organizations = await reach_organizations(session)
        ident, _dot, page_value = value.partition(".")
        if action == "rch_o":
            if not ident.isdigit() or int(ident) not in {found for found, _name in organizations}:
                return None
            audience = toggled_organization(audience, int(ident))
        else:
            page_value = value
        page = _page(page_value, len(organizations), PAGE)
        keyboard = organizations_keyboard(organizations, chosen_organizations(audience), page, button)
    else:
        return None
    if turn.message is not None:
        await turn.message.edit_reply_markup(reply_markup=keyboard)
    return audience
