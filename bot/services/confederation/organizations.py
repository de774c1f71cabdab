"""Creating and changing organizations: the checks of every field, their status (suspended,
archived, restored) and their invite link. Every change is written to the audit log
(`organization.created`, `.changed`, `.suspended`, `.archived`, `.restored`, `.invite_rotated`)
with the names of the fields that changed, never their texts.

Who may do what is the policy's (`bot.policy`): the confederation's staff create organizations and
change their status; an organization's admins change their own organization's fields."""

from __future__ import annotations

import secrets
from typing import Any, Final

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import SHIPPED_LANGUAGES
from bot.services import audit
from bot.services.geo import country_codes, is_valid_zone
from bot.services.members import CITY_MAX
from bot.services.outbox_rows import cancel_pending
from bot.services.refusal import Refusal
from bot.services.roles import Actor, slugify
from bot.services.text import fold, telegram_length
from storage.models import (
    JoinPolicy,
    Organization,
    OrgKind,
    OrgStatus,
    OutboxMessage,
    Visibility,
)
from storage.types import utcnow

NAME_MAX: Final = 128
DESCRIPTION_MAX: Final = 500
CONTACT_MAX: Final = 200
CITIES_MAX: Final = 20
COUNTRIES_MAX: Final = 50
INVITE_PREFIX: Final = "org_"  # t.me/<bot>?start=org_<code>
# The field each status change sets, and what it is recorded as.
STATUS_ACTIONS: Final = {
    OrgStatus.SUSPENDED: "organization.suspended",
    OrgStatus.ARCHIVED: "organization.archived",
    OrgStatus.ACTIVE: "organization.restored",
}
_STATUS_FROM: Final = {
    OrgStatus.SUSPENDED: {OrgStatus.ACTIVE},
    OrgStatus.ARCHIVED: {OrgStatus.ACTIVE, OrgStatus.SUSPENDED},
    OrgStatus.ACTIVE: {OrgStatus.SUSPENDED, OrgStatus.ARCHIVED},
}


class OrganizationError(Refusal):
    """A change refused; `reason` is a stable code the handlers translate (`limit` for lengths)."""


def new_invite_code() -> str:
    """Random, 12 URL-safe characters: unguessable, and short enough for a deep link."""
    return secrets.token_urlsafe(9)


def invite_link(bot_username: str, organization: Organization) -> str:
    return f"https://t.me/{bot_username}?start={INVITE_PREFIX}{organization.invite_code}"


# -- the checks of each field ------------------------------------------------------------------


def checked_name(text: str | None) -> str:
    return OrganizationError.checked_line(text, NAME_MAX, "name_empty", "name_too_long")


def checked_description(text: str | None) -> str | None:
    """Several lines are fine; None (no description) for nothing visible."""
    value = (text or "").strip()
    if not value:
        return None
    if telegram_length(value) > DESCRIPTION_MAX:
        raise OrganizationError("description_too_long", DESCRIPTION_MAX)
    return value


def checked_contact(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    return OrganizationError.checked_line(text, CONTACT_MAX, "contact_empty", "contact_too_long")


def checked_cities(text: str | None) -> list[str]:
    """Cities typed one per line or separated by commas (duplicates dropped, order kept)."""
    cities: list[str] = []
    for part in (text or "").replace("\n", ",").split(","):
        if not part.strip():
            continue
        city = OrganizationError.checked_line(part, CITY_MAX, "city_empty", "city_too_long")
        if fold(city) not in {fold(known) for known in cities}:
            cities.append(city)
    if len(cities) > CITIES_MAX:
        raise OrganizationError("too_many_cities", CITIES_MAX)
    return cities


def _codes(values: Any, known: Any, reason: str) -> list[str]:
    codes = [str(value) for value in values or ()]
    if any(code not in known for code in codes):
        raise OrganizationError(reason)
    return list(dict.fromkeys(codes))


def _at_most(values: list[str], limit: int, reason: str) -> list[str]:
    if len(values) > limit:
        raise OrganizationError(reason, limit)
    return values


def _one_of(kind: Any) -> Any:
    def check(value: Any) -> Any:
        try:
            return kind(value)
        except ValueError:
            raise OrganizationError("bad_value") from None

    return check


def _language(value: Any) -> str:
    if value not in SHIPPED_LANGUAGES:
        raise OrganizationError("bad_value")
    return str(value)


def _zone(value: Any) -> str:
    if not isinstance(value, str) or not is_valid_zone(value):
        raise OrganizationError("bad_value")
    return value


def _logo(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not 0 < len(value) <= 255):
        raise OrganizationError("bad_value")
    return value


# What `change` accepts, and how each value is checked (the name's uniqueness is checked apart).
CHECKS: Final = {
    "name": checked_name,
    "description": checked_description,
    "contact": checked_contact,
    "cities": lambda value: (
        checked_cities(value) if isinstance(value, str) else checked_cities(",".join(value))
    ),
    "countries": lambda value: _at_most(
        _codes(value, country_codes(), "bad_value"), COUNTRIES_MAX, "too_many_countries"
    ),
    "languages": lambda value: _codes(value, SHIPPED_LANGUAGES, "bad_value"),
    "default_language": _language,
    "timezone": _zone,
    "kind": _one_of(OrgKind),
    "visibility": _one_of(Visibility),
    "join_policy": _one_of(JoinPolicy),
    "logo_file_id": _logo,
}


# -- writing ------------------------------------------------------------------------------------


async def _save(
    session: AsyncSession, actor: Actor, organization: Organization, action: str, **details: Any
) -> None:
    """Keep the organization's changes, recorded in the audit log as `action` with `details`."""
    organization.updated_at = utcnow()
    session.add(organization)
    audit.record(
        session, action, actor_telegram_id=actor.telegram_id, organization_id=organization.id, details=details
    )
    await session.flush()


async def _name_is_free(session: AsyncSession, name: str, organization_id: int | None) -> bool:
    """No other organization has this name (ignoring case and accents)."""
    names = (await session.exec(select(Organization.id, Organization.name))).all()
    return not any(fold(other) == fold(name) and ident != organization_id for ident, other in names)


async def _free_slug(session: AsyncSession, name: str) -> str:
    """The name's slug, numbered when another organization has it ("community-2")."""
    base = slugify(name)
    taken = set(
        (await session.exec(select(Organization.slug).where(col(Organization.slug).startswith(base)))).all()
    )
    if base not in taken:
        return base
    number = 2
    while f"{base[:58]}-{number}" in taken:
        number += 1
    return f"{base[:58]}-{number}"


async def create_organization(
    session: AsyncSession, actor: Actor, name: str, *, language: str, timezone: str
) -> Organization:
    """A new organization (listed, open to join) with a fresh invite code; `OrganizationError`
    for a name that is empty, too long or taken."""
    name = checked_name(name)
    if not await _name_is_free(session, name, None):
        raise OrganizationError("name_taken")
    organization = Organization(
        slug=await _free_slug(session, name),
        name=name,
        default_language=language,
        timezone=timezone,
        languages=[language],
        invite_code=new_invite_code(),
    )
    session.add(organization)
    await session.flush()
    await _save(session, actor, organization, "organization.created")
    return organization


async def change(session: AsyncSession, actor: Actor, organization: Organization, **fields: Any) -> list[str]:
    """Set these fields (each checked, see `CHECKS`); returns the names of those that really
    changed (recorded as one `organization.changed`). `OrganizationError` and nothing written for a
    refused value."""
    unknown = set(fields) - set(CHECKS)
    if unknown:
        raise ValueError(f"not organization fields: {sorted(unknown)}")
    values = {key: CHECKS[key](value) for key, value in fields.items()}
    if "name" in values and not await _name_is_free(session, values["name"], organization.id):
        raise OrganizationError("name_taken")
    changed = sorted(key for key, value in values.items() if getattr(organization, key) != value)
    if not changed:
        return []
    for key in changed:
        setattr(organization, key, values[key])
    await _save(session, actor, organization, "organization.changed", fields=changed)
    return changed


async def set_translation(
    session: AsyncSession,
    actor: Actor,
    organization: Organization,
    language: str,
    entry: dict[str, str | None],
) -> None:
    """The organization's name and description in `language` (a part left out shows the original)."""
    if language not in SHIPPED_LANGUAGES or language == organization.default_language:
        raise OrganizationError("bad_value")
    kept: dict[str, str] = {}
    if name := entry.get("name"):
        kept["name"] = checked_name(name)
    if description := checked_description(entry.get("description")):
        kept["description"] = description
    translations = {**organization.translations}
    if kept:
        translations[language] = kept
    else:
        translations.pop(language, None)
    organization.translations = translations
    await _save(
        session, actor, organization, "organization.changed", fields=["translations"], language=language
    )


async def set_status(
    session: AsyncSession, actor: Actor, organization: Organization, status: OrgStatus
) -> int:
    """Suspend, archive or restore. While suspended or archived nothing goes out on its behalf
    (the delivery engine holds its rows); archiving also cancels what was waiting, so a later
    restore does not send old news. Returns how many waiting messages were cancelled.
    `OrganizationError("no_change")` when the organization is not in a state this applies to;
    the deployment's own (first) organization cannot be archived."""
    if organization.status not in _STATUS_FROM[status]:
        raise OrganizationError("no_change")
    if status == OrgStatus.ARCHIVED and organization.id == await first_organization_id(session):
        raise OrganizationError("own_organization")
    organization.status = status
    await _save(session, actor, organization, STATUS_ACTIONS[status])
    if status != OrgStatus.ARCHIVED:
        return 0
    return await cancel_pending(session, col(OutboxMessage.organization_id) == organization.id)


async def rotate_invite(session: AsyncSession, actor: Actor, organization: Organization) -> str:
    """A new invite code: the old link stops working at once."""
    organization.invite_code = new_invite_code()
    await _save(session, actor, organization, "organization.invite_rotated")
    return organization.invite_code


async def first_organization_id(session: AsyncSession) -> int | None:
    """The deployment's own organization (created on first start, named by `ORGANIZATION_NAME`)."""
    return (await session.exec(select(func.min(Organization.id)))).one()
