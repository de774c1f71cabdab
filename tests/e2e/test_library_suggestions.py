"""Members suggest resources and the organization's staff decide (each in their language); forged
buttons for another organization's drafts and suggestions change nothing; the weekly digest goes
out at the member's local Monday morning, once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from bot.services import library
from handlers.library.callbacks import Decision, Library, ResourceDraft
from storage.db import create_session_factory
from storage.models import Organization, OutboxMessage, Resource, ResourceKind, ResourceStatus
from storage.types import utcnow
from tests.e2e.conftest import Harness, buttons
from tests.e2e.helpers import plain
from tests.e2e.test_library import make_staff, published


def last_monday_10() -> datetime:
    """The last Monday 10:00 UTC already past (the digest's rows must be due now)."""
    now = utcnow()
    monday = (now - timedelta(days=now.weekday())).replace(hour=10, minute=0, second=0, microsecond=0)
    return monday if monday < now - timedelta(minutes=5) else monday - timedelta(days=7)


async def _suggest_link(harness: Harness, member, link: str, title: str, note: str) -> dict:  # type: ignore[no-untyped-def]
    await harness.send(member, "/suggest")
    await harness.send(member, link)
    await harness.send(member, title)
    return await harness.send(member, note)


async def test_suggest_approve_and_reject(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    t = harness.t
    fatou = await make_staff(harness, registered)
    amina = await registered("Amina", "ar")
    thanks = await _suggest_link(harness, amina, "https://example.org/visa", "Visa <guide>", "Very useful")
    organization = harness.app.dispatcher["organization"].name
    assert thanks["text"] == t(
        "✅ Thank you! Your suggestion was sent to the team of {organization}. You will hear back.",
        "ar",
        organization=organization,
    )
    notice = await harness.reply(fatou)
    header = t("💡 <b>A member suggests a resource</b> for {organization}", "fr", organization=organization)
    assert notice["text"].startswith(plain(header))
    assert "Visa <guide>" in notice["text"] and t("From: {name}", "fr", name="Amina") in notice["text"]
    question = await harness.choose(fatou, notice, t("✅ Approve", "fr"))
    await harness.press(fatou, question, t("⚖️ Legal & documents", "fr"))
    done = harness.message(fatou, question["message_id"])
    assert done["text"] == plain(
        t("✅ Approved and published: <b>{title}</b>. The member is told.", "fr", title="Visa &lt;guide&gt;")
    )
    told = await harness.reply(amina)
    assert told["text"] == t(
        "✅ Your suggestion “{title}” was approved and is now in the library (/resources). Thank you!",
        "ar",
        title="Visa <guide>",
    )
    found = await harness.send(amina, "/resources")
    assert t("⚖️ Legal & documents", "ar") + " (1)" in buttons(found)

    await harness.send(amina, "/suggest")
    await harness.emulator.send_photo(amina)
    await harness.reply(amina)  # the title, please
    note = await harness.send(amina, "Poster")
    await harness.choose(amina, note, t("Skip", "ar"))
    photo = await harness.reply(fatou)
    assert photo.get("photo") and "Poster" in photo["caption"]
    reason_question = await harness.choose(fatou, photo, t("✖ Reject", "fr"))
    assert "Poster" in reason_question["text"]
    confirmed = await harness.send(fatou, "Hors sujet & trop flou")
    assert confirmed["text"] == t("✖ Rejected. The member is told, with your reason.", "fr")
    told = await harness.reply(amina)
    assert told["text"] == t(
        "Your suggestion “{title}” was not added to the library. The team's reason: {reason}",
        "ar",
        title="Poster",
        reason="Hors sujet & trop flou",
    )
    again = await harness.forge(fatou, photo, Decision(action="cat", id=2, value="health"))
    assert again == t("This button is no longer active.", "fr")  # decided already
    async with create_session_factory(harness.app.engine)() as session:
        statuses = (await session.exec(select(Resource.status).order_by(Resource.id))).all()
    assert statuses == [ResourceStatus.PUBLISHED, ResourceStatus.REJECTED]


async def test_forged_buttons_change_nothing(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    t = harness.t
    fatou = await make_staff(harness, registered)
    amina = await registered("Amina", "en")
    async with create_session_factory(harness.app.engine)() as session:
        other = Organization(slug="other", name="Other")
        session.add(other)
        await session.flush()
        draft = await library.create_draft(
            session, other.id or 0, ResourceKind.RESOURCE, "Their draft", "en", None
        )
        theirs = await library.create_draft(
            session, other.id or 0, ResourceKind.RESOURCE, "Their guide", "en", None
        )
        await library.publish(session, theirs)
        suggestion = await library.create_draft(
            session,
            other.id or 0,
            ResourceKind.RESOURCE,
            "Their suggestion",
            "en",
            None,
            ResourceStatus.SUGGESTED,
        )
        await session.commit()
        ids = (draft.id or 0, theirs.id or 0, suggestion.id or 0)
    ours = await published(harness, "Our guide", "en")
    card = await harness.send(fatou, "/resources")
    stale = t("This button is no longer active.", "fr")
    for data in (
        ResourceDraft(action="publish", id=ids[0]),
        ResourceDraft(action="discard", id=ids[0]),
        ResourceDraft(action="edit", id=ids[0]),
        Decision(action="approve", id=ids[2]),
        Decision(action="cat", id=ids[2], value="health"),
        Decision(action="reject", id=ids[2]),
        Decision(action="cat", id=ours, value="health"),
    ):
        assert await harness.forge(fatou, card, data) == stale, data
    member_card = await harness.send(amina, "/resources")
    for data in (
        Library(action="open", id=ids[1]),
        Library(action="open", id=ids[0]),
        Library(action="save", id=ids[1]),
    ):
        assert await harness.forge(amina, member_card, data) == t("This button is no longer active.", "en")
    refused = await harness.forge(amina, member_card, Decision(action="approve", id=ids[2]))
    assert refused == t(
        "Sorry, only coordinators, organizers and administrators can publish resources.", "en"
    )
    link = await harness.send(amina, f"/start res_{ids[1]}")
    assert link["text"] == t(
        "This resource is not available to you. Send /resources to browse the library.", "en"
    )
    async with create_session_factory(harness.app.engine)() as session:
        rows = {row.id: row.status for row in (await session.exec(select(Resource))).all()}
    assert rows == {ids[0]: "draft", ids[1]: "published", ids[2]: "suggested", ours: "published"}


async def test_weekly_digest_at_local_time_once(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    t = harness.t
    monday = last_monday_10()
    lucia = await registered("Lucía", "es")
    await published(harness, "Guía legal", "es")
    async with create_session_factory(harness.app.engine)() as session:
        await session.exec(  # type: ignore[call-overload]
            Resource.__table__.update().values(published_at=monday - timedelta(days=2))  # type: ignore[attr-defined]
        )
        await session.commit()
    assert harness.app.library is not None
    job = harness.app.scheduler.get_job("library_digests")
    harness.app.library.clock = lambda: monday - timedelta(minutes=1)  # 09:59: not yet
    await harness.app.library.write_digests()
    harness.app.library.clock = lambda: monday + timedelta(minutes=1)
    job.modify(next_run_time=utcnow())  # the scheduler's next tick, now
    digest = await harness.reply(lucia)
    assert digest["text"].startswith(plain(t("📬 <b>New in the library this week</b>", "es")))
    assert "Guía legal" in digest["text"]
    card = await harness.choose(lucia, digest, "1")
    assert "Guía legal" in card["text"]
    await harness.app.library.write_digests()  # later ticks of the same Monday write nothing
    job.modify(next_run_time=utcnow())
    await harness.send(lucia, "/saved")  # anything still on its way to her would come first
    header = plain(t("📬 <b>New in the library this week</b>", "es"))
    sent = [
        m
        for m in harness.emulator.transcript(lucia.id)
        if m["outgoing"] and m.get("text", "").startswith(header)
    ]
    assert len(sent) == 1
    async with create_session_factory(harness.app.engine)() as session:
        rows = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.kind == library.DIGEST_KIND))
        ).all()
    assert len(rows) == 1
