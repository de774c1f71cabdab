"""The library's usage in /stats through the emulator (issue 18): per resource, how many people
opened it, saved it and voted on it in the period, the most opened first, in the text, the CSV and
the XLSX; counts under STATS_MIN_GROUP shown as "< 5" (one 👎 must not point at a person); another
organization's resources only in the super-admins' view of every organization."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from openpyxl import load_workbook

from storage import models
from storage.db import create_session_factory
from storage.types import utcnow
from tests.e2e.conftest import SUPER_ADMIN_ID, Harness
from tests.e2e.stats_seed import Seeded, seed

VISA, RENT, THEIRS, DRAFT = "Visa guide", "Rent help", "Oslo jobs board", "Unfinished draft"


async def _usage(harness: Harness, seeded: Seeded) -> dict[str, int]:
    """A's visa guide: opened by 6, saved by 5, 👍 5, 👎 1 (and one 👍 given 100 days ago); A's rent
    help opened by 2 (and by 3 more, 100 days ago); B's jobs board opened by 7; A's draft."""
    now, old = utcnow(), utcnow() - timedelta(days=100)
    people = [member.id or 0 for member in seeded.members_a]
    async with create_session_factory(harness.app.engine)() as session:
        ids: dict[str, int] = {}
        for title, organization_id, status in (
            (VISA, seeded.a_id, models.ResourceStatus.PUBLISHED),
            (RENT, seeded.a_id, models.ResourceStatus.PUBLISHED),
            (THEIRS, seeded.b_id, models.ResourceStatus.PUBLISHED),
            (DRAFT, seeded.a_id, models.ResourceStatus.DRAFT),
        ):
            resource = models.Resource(
                organization_id=organization_id,
                title=title,
                status=status,
                published_at=now,
                translations={"fr": {"title": "Guide des visas"}} if title == VISA else {},
            )
            session.add(resource)
            await session.flush()
            ids[title] = resource.id or 0
        rows: list[object] = []
        rows += [models.ResourceView(resource_id=ids[VISA], member_id=person) for person in people[:6]]
        rows += [models.ResourceSave(resource_id=ids[VISA], member_id=person) for person in people[:5]]
        rows += [
            models.ResourceVote(resource_id=ids[VISA], member_id=person, useful=True) for person in people[:5]
        ]
        rows.append(models.ResourceVote(resource_id=ids[VISA], member_id=people[5], useful=False))
        rows.append(
            models.ResourceVote(resource_id=ids[VISA], member_id=people[6], useful=True, updated_at=old)
        )
        rows += [models.ResourceView(resource_id=ids[RENT], member_id=person) for person in people[:2]]
        rows += [
            models.ResourceView(resource_id=ids[RENT], member_id=person, viewed_at=old)
            for person in people[2:5]
        ]
        rows += [models.ResourceView(resource_id=ids[THEIRS], member_id=person) for person in people[:7]]
        session.add_all(rows)
        await session.commit()
    return ids


async def test_usage_per_resource_in_stats_small_counts_hidden(harness: Harness) -> None:
    seeded = await seed(harness)
    ids = await _usage(harness, seeded)
    admin = seeded.admin_a
    summary = await harness.send(admin, "/stats")
    text = summary["text"]
    assert "📚 Library: 2 published · 2 opened in the period" in text, text
    assert "👁 opened by · ⭐ saved by · 👍 useful · 👎 not useful" in text
    # The one 👎 is "< 5"; the old 👍 and the old views are outside the 30 days.
    assert f"{VISA}: 👁 6 · ⭐ 5 · 👍 5 · 👎 < 5" in text
    assert f"{RENT}: 👁 < 5 · ⭐ 0 · 👍 0 · 👎 0" in text
    assert text.index(VISA) < text.index(RENT)
    assert THEIRS not in text and DRAFT not in text

    document = (await harness.choose(admin, summary, "📄 CSV"))["document"]
    data = harness.emulator.file_bytes(document["file_id"]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    visa, rent = str(ids[VISA]), str(ids[RENT])
    for row in (
        ["library", "published", "2"],
        ["library", "opened", "2"],
        ["resource.title", visa, VISA],
        ["resource.views", visa, "6"],
        ["resource.saves", visa, "5"],
        ["resource.useful", visa, "5"],
        ["resource.not_useful", visa, "<5"],
        ["resource.views", rent, "<5"],
    ):
        assert row in rows, (row, rows)
    values = [row[2] for row in rows if row[0].startswith("resource.")]
    assert THEIRS not in values and "1" not in values and "2" not in values

    document = (await harness.choose(admin, summary, "📗 Excel (XLSX)"))["document"]
    workbook = load_workbook(io.BytesIO(harness.emulator.file_bytes(document["file_id"])))
    assert list(workbook["📚 Library"].iter_rows(values_only=True)) == [
        ("Resource", "Opened by", "Saved by", "👍 Useful", "👎 Not useful"),
        (VISA, 6, 5, 5, "<5"),
        (RENT, "<5", 0, 0, 0),
    ]
    main = list(workbook["Statistics"].iter_rows(values_only=True))
    assert ("📚 Library", "Resources published", 2) in main and ("📚 Library", "Resources opened", 2) in main

    # Every organization (a super-admin): B's jobs board too, the most opened first.
    root = harness.emulator.create_user("Root", language_code="fr", user_id=SUPER_ADMIN_ID)
    whole = await harness.send(root, "/stats")
    await harness.press(root, whole, "🏢 Choisir l’organisation")
    choice = await harness.edited(root, whole)
    await harness.press(root, choice, "🌐 Toutes les organisations")
    text = (await harness.edited(root, choice))["text"]
    heading = harness.t("📚 <b>Library</b>: {published} published · {opened} opened in the period", "fr")
    assert heading.format(published=3, opened=3).replace("<b>", "").replace("</b>", "") in text
    assert f"{THEIRS} : 👁 7" in text and "Guide des visas : 👁 6" in text, text
    assert text.index(THEIRS) < text.index("Guide des visas") < text.index(RENT)
    assert harness.emulator.errors == []
