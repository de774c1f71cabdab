"""/admin: only administrators, on the command and on every (possibly forged) button."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from bot.services.roles import role_of
from handlers.admin.callbacks import AdminAction
from storage.db import create_session_factory
from storage.models import AuditEntry, Member, Role
from tests.e2e.conftest import SUPER_ADMIN_ID, Harness, buttons

REFUSAL = "Sorry, only administrators can do this."
WHO = (
    "Who should become {role}?\n\n"
    "Forward me any message from them, or send their @username or Telegram user id. "
    "They must have registered with /start first. Send /cancel to stop."
)


async def role_in_db(harness: Harness, telegram_id: int) -> Role:
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == telegram_id))).one()
        org_id = harness.app.dispatcher["organization"].id
        return await role_of(session, org_id, member.id)


async def audit(harness: Harness) -> list[tuple[str, int | None, str]]:
    async with create_session_factory(harness.app.engine)() as session:
        rows = (await session.exec(select(AuditEntry).order_by(AuditEntry.id))).all()
        # Registration itself is audited as a join (membership.joined): role changes only here.
        return [
            (row.action, row.actor_telegram_id, row.details.get("role", ""))
            for row in rows
            if not row.action.startswith("membership.")
        ]


async def super_admin(harness: Harness, registered, language: str = "en"):  # type: ignore[no-untyped-def]
    user = await registered("Chief", language)
    assert user.id != SUPER_ADMIN_ID
    return harness.emulator.create_user(
        "Root", username="root_admin", language_code=language, user_id=SUPER_ADMIN_ID
    )


async def test_non_admin_is_refused_and_forged_buttons_change_nothing(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    intruder = await registered("Eve", "ru", username="eve_x")
    target = await registered("Bob", "en", username="bob_b")

    refusal = await harness.send(intruder, "/admin")
    assert refusal["text"] == harness.t(REFUSAL, "ru")

    forged = [
        AdminAction(action="grant", role="admin"),
        AdminAction(action="grant", role="organizer"),
        AdminAction(action="list"),
        AdminAction(action="revoke_menu"),
        AdminAction(action="revoke", member_id=1),
    ]
    for data in forged:
        assert await harness.forge(intruder, refusal, data) == harness.t(REFUSAL, "ru")
    # Even in the "name the member" step (if they had forged their way there), nothing is granted.
    await harness.emulator.send_text(intruder, "@bob_b")
    await harness.reply(intruder)
    assert await role_in_db(harness, target.id) == Role.MEMBER
    assert await audit(harness) == []
    assert len(harness.emulator.transcript(intruder.id)) == 4  # two messages each way, nothing else sent


async def test_super_admin_grants_by_username_id_and_forward_then_revokes(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    root = await super_admin(harness, registered)
    amina = await registered("Amina", "ar", username="amina_d")
    ivan = await registered("Ivan", "ru")
    lucia = await registered("Lucía", "es")

    menu = await harness.send(root, "/admin")
    assert "Diaspora Bridge community has 4 registered members." in menu["text"]
    assert harness.t("➕ Make someone admin", "en") in buttons(menu)

    # By @username.
    assert (await harness.choose(root, menu, "➕ Make someone organizer"))["text"] == harness.t(
        WHO, "en", role="organizer"
    )
    done = await harness.send(root, "@Amina_D")
    assert done["text"] == "✅ Done: Amina is now organizer."
    notice = await harness.reply(amina)
    assert notice["text"] == harness.t(
        "You are now {role} in {organization}. Send /help to see your commands.",
        "ar",
        role=harness.t("organizer", "ar"),
        organization=harness.settings.organization_name,
    )
    # By numeric id.
    await harness.choose(root, menu, "➕ Make someone coordinator")
    assert (await harness.send(root, str(ivan.id)))["text"] == "✅ Done: Ivan is now coordinator."
    # By forwarding one of their messages.
    await harness.choose(root, menu, "➕ Make someone admin")
    await harness.emulator.forward_to_bot(root, original_sender=lucia, text="hola")
    assert (await harness.reply(root))["text"] == "✅ Done: Lucía is now admin."

    assert await role_in_db(harness, amina.id) == Role.ORGANIZER
    assert await role_in_db(harness, ivan.id) == Role.COORDINATOR
    assert await role_in_db(harness, lucia.id) == Role.ADMIN
    # The grant's reply comes first, then the new admin's menu is set: wait for it (bounded).
    async with asyncio.timeout(10):
        for _ in iter(int, 1):  # until it is set (or the timeout)
            admin_menu = harness.emulator.commands(
                scope={"type": "chat", "chat_id": lucia.id}, language_code=""
            )
            if admin_menu:
                break
            await asyncio.sleep(0.02)
    assert "admin" in [command["command"] for command in admin_menu]

    listing = await harness.choose(root, menu, "👥 Who has which role")
    assert "Amina — organizer" in listing["text"] and "Lucía — admin" in listing["text"]

    choices = await harness.choose(root, menu, "➖ Remove a role")
    assert (await harness.choose(root, choices, "Amina"))["text"] == "Done: Amina is no longer organizer."
    assert await role_in_db(harness, amina.id) == Role.MEMBER
    # Pressing the same (now stale) revoke button again changes nothing.
    query_id = await harness.press(root, choices, "Amina")
    assert harness.emulator.callback_answers[query_id]["text"] == "This member has no role to remove."

    assert await audit(harness) == [
        ("role.granted", SUPER_ADMIN_ID, "organizer"),
        ("role.granted", SUPER_ADMIN_ID, "coordinator"),
        ("role.granted", SUPER_ADMIN_ID, "admin"),
        ("role.revoked", SUPER_ADMIN_ID, "organizer"),
    ]
    assert harness.emulator.errors == []


async def test_unknown_or_hidden_targets_are_explained(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    root = await super_admin(harness, registered)
    menu = await harness.send(root, "/admin")
    await harness.choose(root, menu, "➕ Make someone organizer")
    assert "/start" in (await harness.send(root, "@nobody_here"))["text"]
    assert "/start" in (await harness.send(root, "<b>&amp;</b>"))["text"]
    await harness.emulator.forward_to_bot(root, original_sender=None, sender_name="Hidden Person", text="x")
    assert "@username" in (await harness.reply(root))["text"]
    assert (await harness.send(root, "/cancel"))["text"].startswith("Cancelled")
    assert await audit(harness) == []


async def test_organization_admin_makes_admins_but_the_last_admin_keeps_the_role(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    """An organization's own admin grants every role there, admin included; its last admin (the
    super-admins counted out) cannot be removed or demoted, by themselves or by a super-admin."""
    root = await super_admin(harness, registered)
    boss = await registered("Boss", "en", username="boss_admin")
    helper = await registered("Helper", "en", username="helper_one")
    menu = await harness.send(root, "/admin")
    await harness.choose(root, menu, "➕ Make someone admin")
    await harness.send(root, "@boss_admin")
    await harness.reply(boss)  # role notice

    last = "This is the organization's last admin: make someone else admin first, then change this role."
    boss_menu = await harness.send(boss, "/admin")
    choices = await harness.choose(boss, boss_menu, "➖ Remove a role")
    assert harness.emulator.callback_answers[await harness.press(boss, choices, "Boss")]["text"] == last
    await harness.choose(boss, boss_menu, "➕ Make someone organizer")
    assert (await harness.send(boss, "@boss_admin"))["text"] == last
    assert await role_in_db(harness, boss.id) == Role.ADMIN

    await harness.choose(boss, boss_menu, "➕ Make someone admin")
    assert (await harness.send(boss, "@helper_one"))["text"] == "✅ Done: Helper is now admin."
    await harness.reply(helper)  # role notice
    choices = await harness.choose(boss, boss_menu, "➖ Remove a role")
    assert (await harness.choose(boss, choices, "Boss"))["text"] == "Done: Boss is no longer admin."
    assert await role_in_db(harness, boss.id) == Role.MEMBER
    # Helper is now the last admin: not even a super-admin removes them.
    choices = await harness.choose(root, menu, "➖ Remove a role")
    assert harness.emulator.callback_answers[await harness.press(root, choices, "Helper")]["text"] == last
    assert await role_in_db(harness, helper.id) == Role.ADMIN


async def test_admin_sets_quiet_hours_and_announcements_follow(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    from storage.models import Organization

    root = await super_admin(harness, registered)
    menu = await harness.send(root, "/admin")
    prompt = await harness.choose(root, menu, "🌙 Quiet hours")
    assert "22:00–08:00" in prompt["text"]
    assert (await harness.send(root, "late")).get("text", "").startswith("Please send hours like")
    assert (await harness.send(root, "21:30 - 7:00"))["text"] == "✅ Quiet hours: 21:30–07:00."
    async with create_session_factory(harness.app.engine)() as session:
        org = await session.get(Organization, harness.app.dispatcher["organization"].id)
        assert (org.quiet_start, org.quiet_end) == (21 * 60 + 30, 7 * 60)
    await harness.choose(root, menu, "🌙 Quiet hours")
    assert (await harness.send(root, "off"))["text"] == "✅ Quiet hours: off."
    assert ("organization.quiet_hours", SUPER_ADMIN_ID, "") in await audit(harness)

    intruder = await registered("Eve", "en")
    forged = await harness.send(intruder, "/help")
    assert await harness.forge(intruder, forged, AdminAction(action="quiet")) == REFUSAL
