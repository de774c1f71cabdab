"""/audit through the emulator: an organization's admins see its trail only (forged buttons show
nothing more), super-admins all of it; filters by family, person and days; pages; CSV; and the
entries exports, broadcasts and erasures now leave."""

from __future__ import annotations

import csv
import io

from sqlmodel import select

from handlers.audit.callbacks import AuditButton
from storage.db import create_session_factory
from storage.models import AuditEntry
from storage.types import utcnow
from tests.e2e.conftest import SUPER_ADMIN_ID, Harness, buttons
from tests.e2e.helpers import our_organization, urgent_announcement
from tests.e2e.stats_seed import B_NAME, seed

REFUSAL = "Sorry, only the organization's admins can see its audit trail."
STALE = "This button is no longer active."


async def _entries(harness: Harness, action: str) -> list[AuditEntry]:
    async with create_session_factory(harness.app.engine)() as session:
        return list((await session.exec(select(AuditEntry).where(AuditEntry.action == action))).all())


async def test_an_admin_sees_and_filters_their_organizations_trail_only(harness: Harness) -> None:
    seeded = await seed(harness)
    admin = seeded.admin_a
    trail = await harness.send(admin, "/audit")
    text = trail["text"]
    assert text.startswith(
        f"🧾 Audit trail: {harness.settings.organization_name}\nEntries 1–2 of 2, newest first"
    )
    assert "Role given" in text and "👤 Adama → A1" in text and "previous: member, role: coordinator" in text
    assert "Left" in text and "Bjorn" not in text and B_NAME not in text
    assert buttons(trail) == [
        "👑 Roles",
        "🚪 Joins",
        "📤 Exports",
        "📣 Broadcasts",
        "🗑 Deletions",
        "🏢 Organizations",
        "👤 Person",
        "📅 Dates",
        "📄 CSV",
    ]

    # By family: only the role change.
    await harness.press(admin, trail, "👑 Roles")
    roles = await harness.edited(admin, trail)
    assert "Filters: 👑 Roles" in roles["text"] and "Entries 1–1 of 1" in roles["text"]
    assert "✅ 👑 Roles" in buttons(roles) and "✖️ Clear the filters" in buttons(roles)

    # By person: B's admin is nobody A's trail knows (no name leaks); A's own admin is.
    await harness.choose(admin, roles, "👤 Person")
    unknown = await harness.send(admin, "@bjorn_admin")
    assert unknown["text"].startswith("I don't know anyone by that name in this trail.")
    assert (await harness.send(admin, str(seeded.admin_b.id)))["text"] == unknown["text"]
    mine = await harness.send(admin, "@adama_admin")
    assert "Filters: 👑 Roles · 👤 Adama" in mine["text"] and "Entries 1–1 of 1" in mine["text"]

    # Forged buttons: another organization's person is stale, the trail stays A's.
    async with create_session_factory(harness.app.engine)() as session:
        b_entry = (
            await session.exec(select(AuditEntry).where(AuditEntry.organization_id == seeded.b_id))
        ).one()
    for data in (
        AuditButton(action="page", actor=seeded.admin_b.id),
        AuditButton(action="csv", actor=seeded.admin_b.id),
        AuditButton(action="who", fam="zz"),
        AuditButton(action="page", first=10, last=5),
    ):
        assert await harness.forge(admin, mine, data) == STALE, data
    await harness.forge(admin, mine, AuditButton(action="page", fam="ro", page=0))
    assert "Bjorn" not in (await harness.edited(admin, mine))["text"]

    # Dates: a range that could not be read is explained and asked again.
    await harness.choose(admin, mine, "📅 Dates")
    assert (await harness.send(admin, "whenever"))["text"].startswith("I couldn't read those days.")
    today = utcnow().date().isoformat()
    dated = await harness.send(admin, f"{today} – {today}")
    assert "📅" in dated["text"].split("\n")[1] and "Entries 1–1 of 1" in dated["text"]

    # CSV (of the filters shown, here none): A's entries only; the export itself is audited.
    document = (await harness.choose(admin, await harness.send(admin, "/audit"), "📄 CSV"))["document"]
    rows = list(csv.reader(io.StringIO(harness.emulator.file_bytes(document["file_id"]).decode("utf-8-sig"))))
    assert rows[0][:4] == ["at", "action", "organization_id", "organization"]
    assert {row[1] for row in rows[1:]} == {"role.granted", "membership.left"}
    assert (
        all(row[2] == str(seeded.a_id) for row in rows[1:]) and str(b_entry.id) not in document["file_name"]
    )
    exported = await _entries(harness, "export.audit")
    assert [(entry.actor_telegram_id, entry.organization_id) for entry in exported] == [
        (admin.id, seeded.a_id)
    ]
    assert harness.emulator.errors == []


async def test_members_and_coordinators_are_refused(harness: Harness) -> None:
    seeded = await seed(harness)
    for user in (seeded.member_a, seeded.coordinator_a):
        refusal = await harness.send(user, "/audit")
        assert refusal["text"] == REFUSAL
        assert await harness.forge(user, refusal, AuditButton(action="csv")) == REFUSAL
    assert not [call for call in harness.emulator.calls if call.method == "sendDocument"]
    # B's admin acts for B: B's trail alone.
    theirs = (await harness.send(seeded.admin_b, "/audit"))["text"]
    assert theirs.startswith(f"🧾 Audit trail: {B_NAME}\nEntries 1–1 of 1") and "Adama" not in theirs


async def test_super_admins_see_the_whole_trail_with_pages_and_new_entries(harness: Harness) -> None:
    seeded = await seed(harness)
    root = harness.emulator.create_user("Root", language_code="en", user_id=SUPER_ADMIN_ID)
    # A broadcast, an export and an erasure are audited as they happen.
    question = await harness.send(seeded.member_a, "/forget")
    await harness.press(seeded.member_a, question, "🗑 Yes, erase my data")
    summary = await harness.send(seeded.admin_a, "/stats")
    await harness.choose(seeded.admin_a, summary, "📄 CSV")
    async with create_session_factory(harness.app.engine)() as session:
        await urgent_announcement(session, await our_organization(harness, session), seeded.admin_a, "Hello")
        await session.commit()
    deleted = await _entries(harness, "member.deleted")
    assert [(entry.organization_id, entry.actor_telegram_id, entry.details["by"]) for entry in deleted] == [
        (seeded.a_id, None, "self")
    ]
    assert set(deleted[0].details) == {"by", "joined_at"}  # no personal data
    broadcast = await _entries(harness, "broadcast.announcement")
    assert [(entry.actor_telegram_id, entry.details["recipients"]) for entry in broadcast] == [
        (seeded.admin_a.id, 15)
    ]

    trail = await harness.send(root, "/audit")
    text = trail["text"]
    assert text.startswith("🧾 Audit trail: all organizations\nEntries 1–6 of 6")
    assert f"🏢 {B_NAME}" in text and "👤 Bjorn" in text
    assert "Member erased their data" in text and "👤 the member themself" in text and "Mariam" not in text
    assert "Statistics exported" in text and "Announcement sent" in text

    # More entries than a page: ▶️ turns it; every message stays within Telegram's limit.
    async with create_session_factory(harness.app.engine)() as session:
        for index in range(10):
            session.add(
                AuditEntry(
                    action="organization.changed",
                    actor_telegram_id=SUPER_ADMIN_ID,
                    organization_id=seeded.b_id,
                    details={"field": "description", "note": "x" * 400, "n": index},
                )
            )
        await session.commit()
    first = await harness.send(root, "/audit")
    assert "Entries 1–8 of 16" in first["text"] and buttons(first)[-2:] == ["▶️", "📄 CSV"]
    await harness.press(root, first, "▶️")
    second = await harness.edited(root, first)
    assert "Entries 9–16 of 16" in second["text"] and "◀️" in buttons(second)
    assert all(len(message.get("text") or "") <= 4096 for message in harness.emulator.transcript(root.id))
