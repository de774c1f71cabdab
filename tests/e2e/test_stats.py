"""/stats through the emulator: an organization's figures for its staff (small groups merged so that
nobody can be singled out), charts as PNG photos, CSV and XLSX files, the super-admins' view of every
organization, and refusals for members, for other organizations' staff and for forged buttons."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from babel.dates import format_skeleton
from openpyxl import load_workbook
from sqlmodel import select

from bot.services.members import get_member, update_profile
from bot.services.stats import Period
from handlers.stats.callbacks import StatsButton
from storage.db import create_session_factory
from storage.models import AuditEntry
from storage.types import utcnow
from tests.e2e.conftest import SUPER_ADMIN_ID, Harness, buttons
from tests.e2e.helpers import answered_before
from tests.e2e.stats_seed import B_NAME, seed
from tests.test_charts import png_size

REFUSAL = "Sorry, only the organization's coordinators, organizers and admins can see its statistics."


def _week_line(now_week: str) -> str:
    return f"Week of {now_week}: +17 / −< 5"


def _this_week() -> str:
    return format_skeleton("MMMd", Period.last_days(30, utcnow(), "UTC").week_of(utcnow()), locale="en")


async def _csv(harness: Harness, document: dict) -> list[list[str]]:  # type: ignore[type-arg]
    data = harness.emulator.file_bytes(document["file_id"]).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(data)))


async def test_an_admin_sees_the_figures_of_their_organization_small_groups_merged(harness: Harness) -> None:
    seeded = await seed(harness)
    admin = seeded.admin_a
    summary = await harness.send(admin, "/stats")
    text = summary["text"]
    assert text.startswith(f"📊 Statistics: {harness.settings.organization_name}\n📅 ")
    assert "· 30 days" in text
    for line in (
        "👥 Members: 16",
        "Joined: 17 · Left: < 5",
        _week_line(_this_week()),
        # Lyon (2 members) is merged with the 3 who gave no city: "Other 5" tells nothing about Lyon.
        "🏙 City: Berlin, Germany 6 · Hamburg, Germany 5 · Other 5",
        "🏠 Country of residence: Germany 11 · Other 5",
        "🗣 Language: English 8 · Other 8",
        "🌍 Country of origin: Senegal 8 · Other 8",
        "📅 Events: 1",
        "✅ Going: 12 · 🤔 Maybe: 1 · ❌ Can't go: 0",
        "Check-ins: 10 · Going → attended: 83.3%",
        "New attendees: 5 · Returning: 5",
        "🎓 Trainings: 1",
        "🎟 8 of 10 seats taken · ⏳ waitlist: 3",
        "Came to every session: 6 of 8 (75%)",
        "Responses: 6 of 10 invitations delivered (60%)",
        "Sent: 8 · Failed: 1 · Blocked: 2",
    ):
        assert line in text, (line, text)
    for leak in ("Lyon", "France", "Oslo", "Norway", B_NAME, "Français"):
        assert leak not in text
    assert buttons(summary) == [
        "30 days",
        "90 days",
        "365 days",
        "📅 Other dates",
        "📈 Charts",
        "📄 CSV",
        "📗 Excel (XLSX)",
    ]

    # CSV: the same figures with codes; the small city nowhere.
    rows = await _csv(harness, (await harness.choose(admin, summary, "📄 CSV"))["document"])
    assert rows[0] == ["section", "item", "value"]
    assert ["residence_city", "Berlin, DE", "6"] in rows and ["residence_city", "other", "5"] in rows
    assert ["members", "now", "16"] in rows and ["members", "left", "<5"] in rows
    assert ["events", "conversion", "0.8333"] in rows and ["surveys", "response_rate", "0.6"] in rows
    assert not any("Lyon" in cell or cell == "NO" for row in rows for cell in row)

    # XLSX: the same rows, in words.
    document = (await harness.choose(admin, summary, "📗 Excel (XLSX)"))["document"]
    sheet = load_workbook(io.BytesIO(harness.emulator.file_bytes(document["file_id"])))["Statistics"]
    cells = list(sheet.iter_rows(values_only=True))
    assert cells[0] == ("Section", "Item", "Value")
    assert ("🏙 City", "Berlin, Germany", 6) in cells and ("🏙 City", "Other", 5) in cells
    assert ("Events", "Going → attended", 0.8333) in cells
    assert len(cells) == len(rows)

    # Charts: PNG photos, sent with sendPhoto.
    before = len([call for call in harness.emulator.calls if call.method == "sendPhoto"])
    since = len(harness.emulator.calls)
    pressed = await harness.press(admin, summary, "📈 Charts")
    photos = [await harness.reply(admin) for _ in range(4)]  # weeks, country, language, interests
    # Drawing takes seconds: the button stops spinning first.
    assert answered_before(harness.emulator, since, pressed, "sendPhoto")
    assert all("photo" in photo for photo in photos)
    width, height = png_size(harness.emulator.file_bytes(photos[0]["photo"][-1]["file_id"]))
    assert (width, height) == (960, 720)
    assert len([call for call in harness.emulator.calls if call.method == "sendPhoto"]) == before + 4

    # Another period: the same message, now 90 days.
    await harness.press(admin, summary, "90 days")
    assert "· 90 days" in (await harness.edited(admin, summary))["text"]

    async with create_session_factory(harness.app.engine)() as session:
        exports = (await session.exec(select(AuditEntry).where(AuditEntry.action == "export.stats"))).all()
    assert [
        (entry.actor_telegram_id, entry.organization_id, entry.details["format"]) for entry in exports
    ] == [
        (admin.id, seeded.a_id, "csv"),
        (admin.id, seeded.a_id, "xlsx"),
    ]
    assert harness.emulator.errors == []


async def test_a_typed_range_is_read_and_bad_ones_explained(harness: Harness) -> None:
    seeded = await seed(harness)
    coordinator = seeded.coordinator_a
    summary = await harness.send(coordinator, "/stats")
    prompt = await harness.choose(coordinator, summary, "📅 Other dates")
    assert prompt["text"].startswith("📅 Send the first and the last day")
    for typed, answer in (
        ("soon-ish", "I couldn't read those days."),
        ("03/04 - 05/06", "Did you mean "),
        ("2027-03-31 - 2027-01-01", "The last day comes before the first one."),
        ("2020-01-01 - 2027-01-01", "That is more than three years."),
    ):
        assert (await harness.send(coordinator, typed))["text"].startswith(answer)
    today = utcnow().date()
    first = today - timedelta(days=6)
    reply = await harness.send(coordinator, f"{first.isoformat()} – {today.isoformat()}")
    assert "· 7 days" in reply["text"] and "👥 Members: 16" in reply["text"]
    # The dialog is over: text is not read as dates any more.
    assert "Send /help" in (await harness.send(coordinator, "2027-01-01 - 2027-01-02"))["text"]


async def test_members_are_refused_and_other_organizations_buttons_are_stale(
    harness: Harness,
) -> None:
    seeded = await seed(harness)
    today = utcnow().date().toordinal()
    member = seeded.member_a
    refusal = await harness.send(member, "/stats")
    assert refusal["text"] == REFUSAL
    forged = StatsButton(action="csv", org=seeded.a_id, first=today - 29, last=today)
    assert await harness.forge(member, refusal, forged) == REFUSAL

    # B's admin acts for B (their only staff role): B's figures, never A's, even by forging.
    theirs = await harness.send(seeded.admin_b, "/stats")
    assert theirs["text"].startswith(f"📊 Statistics: {B_NAME}\n")
    assert "👥 Members: 7\n" in theirs["text"]
    forged = StatsButton(action="csv", org=seeded.a_id, first=today - 29, last=today)
    assert await harness.forge(seeded.admin_b, theirs, forged) == "This button is no longer active."
    assert harness.settings.organization_name not in str(
        [message.get("text") for message in harness.emulator.transcript(seeded.admin_b.id)]
    )

    # A's admin sees A's figures only; B's, or every organization's, forged, are stale buttons.
    own = await harness.send(seeded.admin_a, "/stats")
    assert "🏢 Choose the organization" not in buttons(own)
    stale = "This button is no longer active."
    for data in (
        StatsButton(action="csv", org=seeded.b_id, first=today - 29, last=today),
        StatsButton(action="charts", org=seeded.b_id, first=today - 29, last=today),
        StatsButton(action="show", org=0, first=today - 29, last=today),
        StatsButton(action="days", org=seeded.b_id, days=90),
        StatsButton(action="dates", org=0),
        StatsButton(action="orgs", org=seeded.a_id, first=today - 29, last=today),
        StatsButton(action="show", org=seeded.a_id, first=today, last=today - 3),
        StatsButton(action="days", org=seeded.a_id, days=7),
    ):
        assert await harness.forge(seeded.admin_a, own, data) == stale, data
    assert not [call for call in harness.emulator.calls if call.method in ("sendDocument", "sendPhoto")]
    assert B_NAME not in str(
        [message.get("text") for message in harness.emulator.transcript(seeded.admin_a.id)]
    )
    assert harness.emulator.errors == []


async def test_super_admins_see_every_organization_with_a_row_each(harness: Harness) -> None:
    seeded = await seed(harness)
    root = harness.emulator.create_user("Root", language_code="en", user_id=SUPER_ADMIN_ID)
    summary = await harness.send(root, "/stats")
    assert "👥 Members: 16" in summary["text"]
    await harness.press(root, summary, "🏢 Choose the organization")
    choice = await harness.edited(root, summary)
    assert buttons(choice)[:3] == ["🌐 All organizations", B_NAME, harness.settings.organization_name]
    await harness.press(root, choice, "🌐 All organizations")
    whole = await harness.edited(root, choice)
    text = whole["text"]
    assert text.startswith("📊 Statistics: all organizations") and "👥 Members: 23" in text
    assert "🏢 Organizations: 2" in text
    name = harness.settings.organization_name
    assert f"{name}: 👥 16 · +17 / −< 5 · 📅 1 · ✅ 10 · 📣 8" in text
    assert f"{B_NAME}: 👥 7 · +7 / −0 · 📅 1 · ✅ 1 · 📣 0" in text
    rows = await _csv(harness, (await harness.choose(root, whole, "📄 CSV"))["document"])
    assert ["organization.members", B_NAME, "7"] in rows and ["organization.left", name, "<5"] in rows
    assert seeded.b_id


async def test_the_figures_come_in_the_viewers_language(harness: Harness) -> None:
    seeded = await seed(harness)
    async with create_session_factory(harness.app.engine)() as session:
        admin = await get_member(session, seeded.admin_a.id)
        assert admin is not None
        await update_profile(session, admin, language="fr")
        await session.commit()
    summary = await harness.send(seeded.admin_a, "/stats")
    text = summary["text"]
    assert text.startswith(f"📊 Statistiques : {harness.settings.organization_name}")
    assert (
        "👥 Membres : 16" in text
        and "🏙 Ville : Berlin, Allemagne 6 · Hamburg, Allemagne 5 · Autres 5" in text
    )
    assert "Présences enregistrées : 10 · Inscrits → venus : 83,3%" in text
    assert buttons(summary)[:3] == ["30 jours", "90 jours", "365 jours"]
    document = (await harness.choose(seeded.admin_a, summary, "📗 Excel (XLSX)"))["document"]
    sheet = load_workbook(io.BytesIO(harness.emulator.file_bytes(document["file_id"])))["Statistiques"]
    assert next(sheet.iter_rows(values_only=True)) == ("Rubrique", "Élément", "Valeur")
