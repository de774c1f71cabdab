"""Which organization a person acts for (`bot.services.acting`), decided in one place: the one
they chose while they are still staff there (a super-admin: always) and it is not archived; else
the first where they are staff; else the deployment's own."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.acting import acting_choices, acting_organization, choose_acting
from bot.services.members import TelegramIdentity, record_consent
from bot.services.roles import Actor, ensure_default_organization
from storage.models import Membership, Organization, OrgStatus, Role


async def test_the_organization_a_person_acts_for(session: AsyncSession) -> None:
    own = await ensure_default_organization(session, "Diaspora Lyon", "fr", "Europe/Paris")
    youth, women = Organization(slug="youth", name="Youth"), Organization(slug="women", name="Women")
    session.add_all([youth, women])
    await session.flush()
    olga = await record_consent(session, TelegramIdentity(701, None, "Olga"), "fr", "UTC", own.id)
    root = await record_consent(session, TelegramIdentity(702, None, "Root"), "fr", "UTC", own.id)
    staff, chief = Actor(701, False), Actor(702, True)

    # A plain member acts for the deployment's own organization.
    assert (await acting_organization(session, olga, staff, own)).id == own.id
    session.add(Membership(organization_id=youth.id or 0, member_id=olga.id or 0, role=Role.COORDINATOR))
    session.add(Membership(organization_id=women.id or 0, member_id=olga.id or 0, role=Role.ORGANIZER))
    await session.flush()
    assert (await acting_organization(session, olga, staff, own)).id == youth.id  # the first where staff
    assert [item.id for item in await acting_choices(session, olga, staff)] == [youth.id, women.id]

    # Her choice holds; one where she is not staff is refused and changes nothing.
    assert await choose_acting(session, olga, staff, own.id or 0) is None
    assert (await choose_acting(session, olga, staff, women.id or 0)) is women
    assert (await acting_organization(session, olga, staff, own)).id == women.id
    # Archived, the choice no longer holds.
    women.status = OrgStatus.ARCHIVED
    await session.flush()
    assert (await acting_organization(session, olga, staff, own)).id == youth.id
    assert [item.id for item in await acting_choices(session, olga, staff)] == [youth.id]

    # A super-admin may act for any organization that is not archived, without a role there.
    assert [item.id for item in await acting_choices(session, root, chief)] == [own.id, youth.id]
    assert (await choose_acting(session, root, chief, youth.id or 0)) is youth
    assert (await acting_organization(session, root, chief, own)).id == youth.id
    assert await choose_acting(session, root, chief, women.id or 0) is None
