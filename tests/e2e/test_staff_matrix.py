"""Security matrix: every staff command and every staff button that names a row, taken by a plain
member and by the admin of organization B with forged ids of organization A's rows.

The matrix is derived from the declared rights (`flags=rights(...)`): a new staff command is sent,
a new button with `Loads` (or a composer draft button) is forged, and a button class the matrix does
not know how to forge fails the test, naming it. Each press must be refused or stale, A's rows must
be unchanged, and nothing of A (a title, a name) may reach B's admin.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from sqlalchemy import func, select
from sqlmodel import col

from bot.policy import LOADS_FLAG, REFUSAL_FLAG, REFUSALS, RIGHTS_FLAG, STALE, Action
from handlers.composer.spec import Composer
from storage.db import create_session_factory
from storage.models import Announcement, Event, Membership, Organization, Role, Survey, Training
from storage.models.announcements import AnnouncementStatus
from storage.models.library import Resource, ResourceStatus
from storage.models.outbox import OutboxMessage
from storage.models.positions import Position, PositionEndorsement, PositionStatus
from storage.types import utcnow
from tests.e2e.conftest import Harness
from tests.e2e.reach_kit import (
    add_organization,
    belongs_to,
    opened_survey_of,
    published_event,
    published_training,
)
from tests.test_policy_structure import _handlers

A_NAME = "Alpha Org"
A_SECRETS = (
    A_NAME,
    "Alpha Secret Gala",
    "Alpha Hidden Census",
    "Alpha Closed Workshop",
    "Alpha Private Guide",
    "Alpha Joint Statement",
    "Alpha Published Guide",
    "Alpha Draft Guide",
)
# The models a forged button may name, and the button classes the matrix forges: the composer's
# draft buttons name their draft by `id`; `Loads` says its model and field itself.
KNOWN_MODELS = {Event, Survey, Training, Resource, Organization, Announcement, Position, PositionEndorsement}
DRAFT_MODELS = {
    "EventAdmin": Event,
    "SurveyDialog": Survey,
    "TrainingDraft": Training,
    "ResourceDraft": Resource,
    "AnnounceAction": Announcement,
    "OrgEdit": Organization,
    "PositionDraft": Position,
}
KNOWN_CLASSES = {"EventAdmin", "SurveyManage", "TrainingAdmin", "Decision", "OrgAdmin"} | set(DRAFT_MODELS)
KNOWN_CLASSES |= {"PositionStaff", "Endorsement"}


@dataclass(frozen=True)
class Forgery:
    label: str
    data: CallbackData
    action: Action
    refusal: Any  # lazy gettext: read it in the member's language


def _actions_of(rule: Any) -> set[str]:
    """The string constants of a magic filter (`F.action == "x"`, `F.action.in_({...})`)."""
    found: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, set | frozenset | list | tuple):
            for item in value:
                collect(item)

    for operation in getattr(rule, "_operations", ()):
        for name in dir(operation):  # the operations keep their operands in slots
            if not name.startswith("__"):
                collect(getattr(operation, name, None))
    return found


def _draft_spec(handler: HandlerObject) -> Composer[Any] | None:
    for cell in handler.callback.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if isinstance(value, Composer):
            return value
    return None


def _staff_handlers() -> Iterator[tuple[str, HandlerObject]]:
    for router, observer, handler in _handlers():
        if handler.flags.get(RIGHTS_FLAG) not in (None, Action.PUBLIC):
            yield f"{router}.{handler.callback.__name__} ({observer})", handler


def staff_commands() -> set[str]:
    commands: set[str] = set()
    for _, handler in _staff_handlers():
        for item in handler.filters or ():
            for command in getattr(item.callback, "commands", ()) or ():
                commands.add(str(getattr(command, "command", command)))
    return commands


def forgeries(ids: dict[type[Any], int]) -> tuple[list[Forgery], list[str]]:
    """A forged press for every staff button naming a row (with A's row), and the labels of the
    handlers the matrix cannot forge."""
    made: list[Forgery] = []
    unknown: list[str] = []
    for label, handler in _staff_handlers():
        button = next(
            (f.callback for f in handler.filters or () if isinstance(f.callback, CallbackQueryFilter)), None
        )
        if button is None:
            continue
        loads, spec = handler.flags.get(LOADS_FLAG), _draft_spec(handler)
        if loads is None and spec is None:
            continue  # a dialog step of an unsaved draft: it names no row
        cls = button.callback_data
        model = loads.model if loads is not None else DRAFT_MODELS.get(cls.__name__)
        field = loads.field if loads is not None else "id"
        if cls.__name__ not in KNOWN_CLASSES or model not in KNOWN_MODELS:
            unknown.append(f"{label}: {cls.__name__} naming {getattr(model, '__name__', model)}")
            continue
        built = [
            cls(action=code, **{field: ids[model]})  # type: ignore[call-arg]
            for code in sorted(_actions_of(button.rule))
        ]
        chosen = [data for data in built if button.rule is None or button.rule.resolve(data)]
        if not chosen:
            unknown.append(f"{label}: no action code found in its filter")
            continue
        action = handler.flags[RIGHTS_FLAG]
        refusal = handler.flags.get(REFUSAL_FLAG) or REFUSALS[action]
        made += [Forgery(f"{label} [{data.action}]", data, action, refusal) for data in chosen]  # type: ignore[attr-defined]
    return made, unknown


def test_the_matrix_knows_every_button_class() -> None:
    """A new staff button naming a row must be forgeable here (or this test names it)."""
    ids = {model: 1 for model in KNOWN_MODELS}
    made, unknown = forgeries(ids)
    assert not unknown, "staff buttons the matrix cannot forge: " + "; ".join(unknown)
    classes = {type(item.data).__name__ for item in made}
    assert classes == KNOWN_CLASSES, f"forged classes {sorted(classes)} != known {sorted(KNOWN_CLASSES)}"
    assert len(made) > 60, len(made)
    assert {"myevents", "results", "managetrainings", "manageorgs", "stats", "audit"} <= staff_commands()


async def _objects_of_a(harness: Harness, a_id: int, author: Any) -> dict[type[Any], int]:
    event = await published_event(harness, a_id, A_SECRETS[0])
    survey = await opened_survey_of(harness, a_id, A_SECRETS[1], [("text", "Your salary?", {})])
    training = await published_training(harness, a_id, A_SECRETS[2])
    async with create_session_factory(harness.app.engine)() as session:
        announcement = Announcement(
            organization_id=a_id,
            author_chat_id=author.id,
            text="Alpha internal notice",
            status=AnnouncementStatus.SCHEDULED,
            scheduled_at=utcnow() + timedelta(days=5),
        )
        resource = Resource(
            organization_id=a_id, title=A_SECRETS[3], status=ResourceStatus.SUGGESTED, body="x"
        )
        position = Position(
            organization_id=a_id,
            title=A_SECRETS[5],
            statement="Alpha's statement",
            addressee="Alpha's ministry",
            status=PositionStatus.OPEN,
            deadline=utcnow() + timedelta(days=5),
        )
        # A published resource and a draft: the library's buttons are forged with their ids too
        # (✏️ Edit, the category and languages, 🚫 Withdraw act on published ones).
        others = [
            Resource(organization_id=a_id, title=title, status=status, body="x", published_at=utcnow())
            for title, status in (
                (A_SECRETS[6], ResourceStatus.PUBLISHED),
                (A_SECRETS[7], ResourceStatus.DRAFT),
            )
        ]
        session.add_all([resource, announcement, position, *others])
        await session.flush()
        endorsement = PositionEndorsement(position_id=position.id or 0, organization_id=a_id)
        session.add(endorsement)
        await session.commit()
        return {
            Position: position.id or 0,
            PositionEndorsement: endorsement.id or 0,
            Event: event,
            Survey: survey,
            Training: training,
            Resource: resource.id or 0,
            Organization: a_id,
            Announcement: announcement.id or 0,
        }


async def _resource_id(harness: Harness, title: str) -> int:
    async with create_session_factory(harness.app.engine)() as session:
        found = await session.exec(select(Resource.id).where(col(Resource.title) == title))  # type: ignore[call-overload]
        return int(found.scalar_one())


def _columns(row: Any) -> str:
    return repr({column.name: getattr(row, column.key, None) for column in row.__table__.columns})


async def _snapshot(harness: Harness, a_id: int) -> dict[str, Any]:
    """Every row of A's events, surveys, trainings, announcements, resources, memberships, joint
    positions and endorsements, and the count of A's outbox rows."""
    shot: dict[str, Any] = {}
    async with create_session_factory(harness.app.engine)() as session:
        for model in (
            Event,
            Survey,
            Training,
            Announcement,
            Resource,
            Membership,
            Position,
            PositionEndorsement,
        ):
            rows = (await session.exec(select(model).where(col(model.organization_id) == a_id))).scalars()  # type: ignore[call-overload, attr-defined]
            shot[model.__name__] = sorted(_columns(row) for row in rows)
        organization = await session.get(Organization, a_id)
        shot["Organization"] = _columns(organization)
        outbox = select(func.count()).where(col(OutboxMessage.organization_id) == a_id)
        shot["outbox"] = (await session.exec(outbox)).scalar_one()  # type: ignore[call-overload]
    return shot


def _texts(harness: Harness, user_id: int) -> list[str]:
    """Everything the bot sent the user: texts, captions, document names, button labels (the
    toasts are collected as the presses are answered)."""
    shown = []
    for message in harness.emulator.transcript(user_id):
        if not message["outgoing"]:
            continue
        shown += [str(message.get(key) or "") for key in ("text", "caption")]
        shown.append(str((message.get("document") or {}).get("file_name") or ""))
        markup = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        shown += [str(button.get("text") or "") for row in markup for button in row]
    return shown


async def test_members_and_other_organizations_staff_cannot_touch_a(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    """B's admin (acting for B) and a plain member of A send every staff command and forge every
    staff button with A's ids: refused or stale, A unchanged, nothing of A shown to B's admin."""
    a_id = await add_organization(harness, A_NAME)
    b_id = await add_organization(harness, "Beta Org")
    member = await registered("Plain Member", "en")
    b_admin = await registered("Beta Admin", "en")
    ids = await _objects_of_a(harness, a_id, b_admin)  # queued before anyone here belongs to A
    await published_event(harness, b_id, "Beta Picnic")
    await belongs_to(harness, member, a_id)
    await belongs_to(harness, b_admin, b_id, role=Role.ADMIN)
    made, unknown = forgeries(ids)
    assert not unknown, unknown
    for title in A_SECRETS[6:]:
        made += [
            item
            for item in forgeries({**ids, Resource: await _resource_id(harness, title)})[0]
            if type(item.data).__name__ == "ResourceDraft"
        ]
    with harness.i18n.context(), harness.i18n.use_locale("en"):
        stale, refusals = str(STALE), {str(text) for text in REFUSALS.values()}
        refusal_of = {item.label: str(item.refusal) for item in made}
    before = await _snapshot(harness, a_id)

    for command in sorted(staff_commands()):
        refused = await harness.send(member, f"/{command}")
        assert refused["text"] in refusals, (command, refused["text"])
        await harness.send(b_admin, f"/{command}")  # legitimate in B: answered, showing nothing of A
        await harness.send(b_admin, "/cancel")
    await harness.send(member, "/cancel")

    anchor = {user.id: await harness.send(user, "/help") for user in (member, b_admin)}
    failures, toasts = [], []
    for item in made:
        for user, accepted in (
            (member, {refusal_of[item.label]}),
            (b_admin, {refusal_of[item.label], stale}),
        ):
            toast = await harness.forge(user, anchor[user.id], item.data)
            toasts += [toast] if user is b_admin else []
            if toast not in accepted:
                failures.append(f"{item.label} as {user.first_name}: {toast!r}")
    assert not failures, "forged presses not refused: " + "; ".join(failures)

    after = await _snapshot(harness, a_id)
    assert after == before, "A's rows changed"
    leaks = [
        (secret, text)
        for text in _texts(harness, b_admin.id) + toasts
        for secret in A_SECRETS
        if secret in text
    ]
    assert not leaks, leaks
    assert any("Beta Picnic" in text for text in _texts(harness, b_admin.id)), "/myevents lists B's own"
    assert not harness.apologized(member) and not harness.apologized(b_admin)
