"""The migrated schema and the models agree, and migrations go down and up again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, select

from bot.app import create_app
from bot.config import Settings
from bot.services.acting import acting_organization
from bot.services.roles import Actor
from storage import models  # noqa: F401
from storage.db import create_engine
from storage.migrate import alembic_config, downgrade_to_base, upgrade_to_head
from storage.models import (
    Event,
    JoinPolicy,
    Member,
    Membership,
    Organization,
    OrgStatus,
    OutboxMessage,
    Role,
    Survey,
    Visibility,
)
from storage.models.library import is_search_index


async def _diff(engine: AsyncEngine) -> list[object]:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(
                    sync,
                    opts={
                        "compare_type": True,
                        "include_name": lambda name, kind, parents: not is_search_index(name, kind),
                    },
                ),
                SQLModel.metadata,
            )
        )


async def test_migrations_match_the_models(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    try:
        assert await _diff(engine) == []
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert {"members", "organizations", "memberships", "audit_log", "dialog_states"} <= tables
    finally:
        await engine.dispose()


def test_downgrade_to_base_and_up_again(migrated_url: str) -> None:
    downgrade_to_base(migrated_url)
    upgrade_to_head(migrated_url)


# -- upgrading a single-organization database (issue 13) ---------------------------------------------

_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _filler(column: sa.Column[Any]) -> Any:
    """A value for a required column the test does not care about, by its type."""
    kind = column.type
    if isinstance(kind, sa.JSON):
        return {}
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 0
    if isinstance(kind, sa.DateTime) or "datetime" in type(kind).__name__.lower():
        return _NOW
    return ""


def _insert(connection: sa.Connection, table_name: str, /, **values: Any) -> int:
    """A row of the table as it is at this revision (its other required columns filled in)."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
    for column in table.columns:
        required = not column.nullable and column.server_default is None and not column.primary_key
        if required and column.name not in values:
            values[column.name] = _filler(column)
    result = connection.execute(table.insert().values(**values).returning(table.c.id))
    return int(result.scalar_one())


def _single_organization_data(connection: sa.Connection) -> dict[str, int]:
    """What a deployment on the schema before the confederation holds: its one organization, an
    organizer and a member, an event and a survey of it, a message waiting in the outbox."""
    organization = _insert(
        connection,
        "organizations",
        slug="diaspora-lyon",
        name="Diaspora Lyon",
        default_language="fr",
        timezone="Europe/Paris",
        created_at=_NOW,
    )
    ids = {"organization": organization}
    for name, telegram_id, role in (("Olga", 501, "organizer"), ("Awa", 502, "member")):
        member = _insert(
            connection,
            "members",
            telegram_id=telegram_id,
            display_name=name,
            language="fr",
            interests=[],
            status="active",
            consent_at=_NOW,
            created_at=_NOW,
            updated_at=_NOW,
        )
        _insert(
            connection,
            "memberships",
            organization_id=organization,
            member_id=member,
            role=role,
            created_at=_NOW,
            updated_at=_NOW,
        )
        ids[name] = member
    ids["event"] = _insert(
        connection,
        "events",
        organization_id=organization,
        title="Assemblée",
        description="",
        language="fr",
        translations={},
        starts_at=_NOW + timedelta(days=30),
        timezone="Europe/Paris",
        reminder_offsets=[],
        audience={},
        status="published",
        created_at=_NOW,
        updated_at=_NOW,
    )
    ids["survey"] = _insert(
        connection,
        "surveys",
        organization_id=organization,
        title="Vos besoins",
        language="fr",
        translations={},
        audience={},
        status="open",
        created_at=_NOW,
    )
    ids["announcement"] = _insert(
        connection,
        "announcements",
        organization_id=organization,
        author_chat_id=501,
        text="Bonjour",
        language="fr",
        translations={},
        audience={},
        status="sending",
        created_at=_NOW,
    )
    ids["outbox"] = _insert(
        connection,
        "outbox",
        kind="announcement",
        ref_id=ids["announcement"],
        member_id=ids["Awa"],
        chat_id=502,
        language="fr",
        payload={},
        status="pending",
        not_before=_NOW,
        attempts=0,
        created_at=_NOW,
    )
    return ids


async def test_a_single_organization_database_upgrades_in_place(database_url: str) -> None:
    """A database made by the migrations before the confederation (0006) with data, upgraded to
    the head: its organization is the first one, with an invite code, everything stays attached to
    it, and a fresh start with the same ORGANIZATION_NAME serves it (no second one is created)."""
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "0006")
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            ids = await connection.run_sync(_single_organization_data)
    finally:
        await engine.dispose()
    await asyncio.to_thread(upgrade_to_head, database_url)

    settings = Settings(
        bot_token="123:upgrade",
        database_url=database_url,
        organization_name="Diaspora Lyon",
        admin_ids=frozenset(),
    )
    app = await create_app(settings)
    try:
        assert app.dispatcher["organization"].id == ids["organization"]
        async with app.sessions() as session:
            organizations = (await session.exec(select(Organization))).all()
            assert [(row.id, row.name, row.status) for row in organizations] == [
                (ids["organization"], "Diaspora Lyon", OrgStatus.ACTIVE)
            ]
            organization = organizations[0]
            assert len(organization.invite_code or "") >= 8
            assert (organization.visibility, organization.join_policy) == (Visibility.LISTED, JoinPolicy.OPEN)
            roles = dict((await session.exec(select(Membership.member_id, Membership.role))).all())
            assert roles == {ids["Olga"]: Role.ORGANIZER, ids["Awa"]: Role.MEMBER}
            event, survey = await session.get(Event, ids["event"]), await session.get(Survey, ids["survey"])
            assert event is not None and survey is not None
            assert event.organization_id == survey.organization_id == ids["organization"]
            waiting = await session.get(OutboxMessage, ids["outbox"])
            assert waiting is not None and waiting.organization_id == ids["organization"]
            olga = await session.get(Member, ids["Olga"])
            acting = await acting_organization(session, olga, Actor(501, False), organization)
            assert (
                acting.id == ids["organization"] and olga is not None and olga.acting_organization_id is None
            )
    finally:
        await app.close()
