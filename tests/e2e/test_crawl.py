"""The definition of done, checked from outside: for each role, from its menu's commands, every
inline button reachable pressed (breadth first, bounded) in the member's language, each step
checked (answered, replied to, no Bot API call refused, no English left, no traceback, no apology),
then each pressed button's data replayed by a member of another organization: answered, and
nothing but that member's own rows changed. `tests/e2e/crawl_kit.py` is the crawler."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest

from bot.commands import command_list
from storage.db import create_session_factory
from storage.models import Role
from storage.models.library import Resource, ResourceStatus
from storage.models.positions import Position, PositionEndorsement, PositionStatus
from storage.types import utcnow
from tests.e2e.conftest import Harness
from tests.e2e.crawl_kit import Crawl, settled
from tests.e2e.reach_kit import (
    add_organization,
    belongs_to,
    home_id,
    member_row,
    opened_survey_of,
    published_event,
    published_training,
)
from tests.e2e.test_confederation_reach import super_admin

ROLES: dict[str, Role | None] = {
    "member": Role.MEMBER,
    "coordinator": Role.COORDINATOR,
    "organizer": Role.ORGANIZER,
    "admin": Role.ADMIN,
    "staff": None,  # the confederation's staff (ADMIN_IDS)
}


async def _content(harness: Harness) -> int:
    """What the home organization offers (an event, a training, a survey, a resource, a joint
    position to endorse) and a second organization in the directory; the second's id."""
    home = home_id(harness)
    other = await add_organization(harness, "Zeta <Kollektiv> & Co", countries=["SN"])
    await published_event(harness, home, "Zumba <2099> & Co")
    await published_training(harness, home, "Kotlin <101> & Co")
    await opened_survey_of(
        harness,
        home,
        "Sondage <Q3> & Co",
        [("single", "Zumba?", {"options": ["Oui", "Non"]}), ("text", "Notes?", {})],
    )
    async with create_session_factory(harness.app.engine)() as session:
        resource = Resource(
            organization_id=home, title="Wiki <X> & Co", body="x", status=ResourceStatus.PUBLISHED
        )
        resource.published_at = utcnow()
        position = Position(
            organization_id=home,
            title="Charta <X> & Co",
            statement="X",
            addressee="UNHCR",
            status=PositionStatus.OPEN,
            deadline=utcnow() + timedelta(days=5),
        )
        session.add_all([resource, position])
        await session.flush()
        session.add(PositionEndorsement(position_id=position.id or 0, organization_id=home))
        await session.commit()
    return other


async def _user(harness: Harness, registered: Any, role: str, locale: str) -> Any:
    if role == "newcomer":
        return harness.emulator.create_user("Nuru <u>&", language_code=locale.replace("_", "-").lower())
    if role == "staff":
        return await super_admin(harness, locale)
    user = await registered("Amani <b>&amp;", locale)
    await belongs_to(harness, user, home_id(harness), role=ROLES[role] or Role.MEMBER)
    return user


def _commands(harness: Harness, role: str, locale: str) -> list[str]:
    if role == "newcomer":
        return ["/start", "/help", "/events"]
    roles = [Role.ADMIN] if role == "staff" else [ROLES[role] or Role.MEMBER]
    names = [command.command for command in command_list(harness.i18n, locale, roles)]
    return ["/start", "/help", *(f"/{name}" for name in names if name not in ("start", "help"))]


# The suite's bound (some 3 s of CPU a case): six presses after each command, and three cases (a
# newcomer, an organization's admin, the confederation's staff) in Arabic, Chinese and Russian.
# `CRAWL_PRESSES=24 CRAWL_ALL=1 python -m pytest tests/e2e/test_crawl.py` crawls deeper, out of the
# suite, with every role (members, coordinators, organizers) and French and Ukrainian too.
PRESSES = int(os.environ.get("CRAWL_PRESSES", "6"))
CASES = [("newcomer", "ar"), ("admin", "zh_Hans"), ("staff", "ru")]
if os.environ.get("CRAWL_ALL"):
    CASES += [
        ("member", "ru"),
        ("coordinator", "zh_Hans"),
        ("organizer", "fr"),
        ("admin", "ar"),
        ("staff", "uk"),
    ]


@pytest.mark.parametrize(("role", "locale"), CASES)
async def test_every_button_of_every_screen(
    harness: Harness, registered: Any, role: str, locale: str
) -> None:
    other = await _content(harness)
    user = await _user(harness, registered, role, locale)
    forger = await registered("Faraji <i>&lt;", "en")
    await belongs_to(harness, forger, other)
    await settled(harness)

    crawl = Crawl(harness, user, locale, max_presses=PRESSES)
    for command in _commands(harness, role, locale):
        await crawl.command(command)
        await crawl.run()
        if role != "newcomer":
            await crawl.interrupt()  # and out of any dialog the command or its buttons opened
    await crawl.finish()
    assert not crawl.problems, "\n".join(crawl.problems)
    assert not harness.apologized(user, locale)

    anchor = await harness.send(forger, "/help")
    forger_row = await member_row(harness, forger)
    forged = await crawl.replay_as(forger, anchor, {forger_row.id or 0, forger.id})
    assert not forged, "\n".join(forged)
    assert not harness.apologized(forger)


async def test_a_command_typed_in_a_step_is_no_answer(harness: Harness, registered: Any) -> None:
    """What the crawler found: /suggest's link, /stats' other dates and the quiet hours took a
    typed command for their answer ("Please send a link", "I couldn't read these dates", "Please
    send hours like 22:00-08:00"); they say how to go on or stop, and keep waiting."""
    admin = await registered("Amani", "ru")
    await belongs_to(harness, admin, home_id(harness), role=Role.ADMIN)
    hint = harness.t("Please answer the question above, or send /cancel to stop.", "ru")
    t = harness.t

    await harness.send(admin, "/suggest")
    assert (await harness.send(admin, "/positions"))["text"] == hint
    assert (await harness.send(admin, "/cancel"))["text"] == t("Cancelled. Nothing else was changed.", "ru")

    card = await harness.send(admin, "/stats")
    await harness.choose(admin, card, t("📅 Other dates", "ru"))
    assert (await harness.send(admin, "/positions"))["text"] == hint
    await harness.send(admin, "/cancel")

    menu = await harness.send(admin, "/admin")
    await harness.choose(admin, menu, t("🌙 Quiet hours", "ru"))
    assert (await harness.send(admin, "/positions"))["text"] == hint
    assert (await harness.send(admin, "/cancel"))["text"] == t("Cancelled. Nothing else was changed.", "ru")
