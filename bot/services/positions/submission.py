"""A joint position's submission: what goes into the document (`gather`: the position in the
chosen language, the organizations that endorsed it, the members' signatures, the attached
consultation's results with small groups suppressed), the deadline job (`close_due_positions`),
the files themselves (`render_files`) and the drafter's choices (the PDF's language, the
consultation attached).

At the deadline each OPEN position is claimed once (an UPDATE from OPEN to CLOSED: a restart or a
second process finds nothing left to claim), its closing audited, and the submission queued for the
drafter (or, when the drafter is no longer an admin, the drafting organization's admins) as three
outbox rows (PDF, CSV, XLSX) per person, in the same transaction. The files are rendered at send
time from the database (`bot.delivery.submissions`)."""

from __future__ import annotations

import asyncio
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from aiogram.utils.i18n import I18n
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import _
from bot.services import audit
from bot.services.audience import is_wide, reachable_members
from bot.services.geo import country_name
from bot.services.organizations import organization_text
from bot.services.outbox_rows import Addressee, insert_rows, pending_row
from bot.services.positions.document import Labels, Signature, Submission, file_stem
from bot.services.row_locks import claim
from bot.services.surveys.results import results
from bot.services.surveys.tally import QuestionResult, SurveyResults
from storage.models import (
    EndorsementDecision,
    Member,
    Membership,
    Organization,
    Position,
    PositionEndorsement,
    PositionSignature,
    PositionStatus,
    Role,
    Survey,
    SurveyStatus,
)
from storage.types import utcnow

KIND = "position_submission"  # the PDF, with a caption
CSV_KIND = "position_submission_csv"
XLSX_KIND = "position_submission_xlsx"
KINDS = (KIND, CSV_KIND, XLSX_KIND)
SURVEYS_LISTED = 10  # the latest surveys offered to attach


def languages(position: Position) -> list[str]:
    """The languages the submission can be in: the position's own, then its translations."""
    translated = sorted(
        code for code, entry in (position.translations or {}).items() if isinstance(entry, dict) and code
    )
    return [position.language, *(code for code in translated if code != position.language)]


def pdf_language(position: Position) -> str:
    chosen = position.submission_language
    return chosen if chosen in languages(position) else position.language


def texts_in(position: Position, language: str) -> tuple[str, str]:
    """(title, statement) in `language` when translated, else as written."""
    entry: Any = (position.translations or {}).get(language) if language != position.language else None
    if not isinstance(entry, dict):
        return position.title, position.statement
    return str(entry.get("title") or position.title), str(entry.get("statement") or position.statement)


def labels(language: str) -> Labels:
    """The document's words in `language` (English without an i18n context)."""
    i18n = I18n.get_current(no_error=True)
    if i18n is None:
        return Labels()
    with i18n.use_locale(language):
        return Labels(
            addressee=_("Addressed to"),
            deadline=_("Deadline"),
            organizations=_("Endorsed by"),
            no_organizations=_("No organization has endorsed this position."),
            signatures=_("Signatures"),
            name=_("Name"),
            country=_("Country"),
            kind=_("Type"),
            organization=_("Organization"),
            signature=_("Signature"),
            results=_("Consultation results"),
            generated=_("Generated on {when}"),
            position=_("Position"),
            statement=_("Statement"),
        )


async def endorsing_names(session: AsyncSession, position: Position, language: str) -> list[str]:
    """The names, in `language` where translated, of the organizations that endorsed it."""
    found = await session.exec(
        select(Organization)
        .join(PositionEndorsement, col(PositionEndorsement.organization_id) == col(Organization.id))
        .where(
            PositionEndorsement.position_id == position.id,
            PositionEndorsement.decision == EndorsementDecision.ENDORSED,
        )
        .order_by(col(PositionEndorsement.decided_at), col(PositionEndorsement.id))
    )
    return [organization_text(organization, "name", language) for organization in found.all()]


async def signatures(session: AsyncSession, position: Position, language: str) -> list[Signature]:
    found = await session.exec(
        select(PositionSignature.display_name, PositionSignature.country)
        .where(PositionSignature.position_id == position.id)
        .order_by(col(PositionSignature.consented_at), col(PositionSignature.id))
    )
    return [Signature(name, country_name(country, language)) for name, country in found.all()]


def _answer_rows(group: str, question: QuestionResult) -> list[list[Any]]:
    """One row per option (count and share), or the average, or how many answered (never texts)."""
    if question.labels:
        yes_no = {"yes": _("Yes"), "no": _("No")} if question.kind == "yes_no" else {}
        return [
            [group, question.text, yes_no.get(label, label), count, f"{share:g}%"]
            for label, count, share in zip(
                question.labels, question.counts, question.percentages, strict=False
            )
        ]
    if question.average is not None:
        return [[group, question.text, _("Average"), question.average, ""]]
    return [[group, question.text, _("Answers"), question.answered, ""]]


async def results_table(
    session: AsyncSession, position: Position, language: str, min_group: int
) -> tuple[list[list[Any]] | None, str]:
    """The attached consultation's results as a table (everyone, then each organization a
    confederation-wide survey reached, groups under `min_group` respondents merged into "Other"),
    and a note on what was suppressed; (None, note) when there is too little to show anyone's."""
    survey = await session.get(Survey, position.survey_id) if position.survey_id else None
    if survey is None or survey.status == SurveyStatus.DRAFT:
        return None, ""
    by_organization = is_wide(survey.audience) and not survey.anonymous
    i18n = I18n.get_current(no_error=True)
    with i18n.use_locale(language) if i18n else nullcontext():
        figures = await results(
            session,
            survey,
            language=language,
            breakdown="organization" if by_organization else None,
            min_group=min_group,
        )
        if figures.respondents < min_group:
            return None, _(
                "Too few answers to the consultation (fewer than {n}) to show its results."
            ).format(n=min_group)
        table: list[list[Any]] = [[_("Group"), _("Question"), _("Answer"), _("Count"), "%"]]
        groups: list[tuple[str, SurveyResults]] = [
            (_("Everyone ({n})").format(n=figures.respondents), figures)
        ]
        names = await _organization_names(
            session, [int(key) for key in figures.groups if key.isdigit()], language
        )
        other = _("Other")
        for key, group in sorted(figures.groups.items(), key=lambda item: names.get(item[0], item[0])):
            groups.append((f"{names.get(key, other)} ({group.respondents})", group))
        if figures.other is not None:
            groups.append((f"{other} ({figures.other.respondents})", figures.other))
        for label, group in groups:
            for question in group.questions:
                table += _answer_rows(label, question)
        note = ""
        if by_organization:
            note = _(
                "Organizations with fewer than {n} respondents are not shown on their own: "
                "they are counted together under “Other”."
            ).format(n=min_group)
    return table, note


async def _organization_names(session: AsyncSession, ids: list[int], language: str) -> dict[str, str]:
    if not ids:
        return {}
    found = await session.exec(select(Organization).where(col(Organization.id).in_(ids)))
    return {str(row.id): organization_text(row, "name", language) for row in found.all()}


async def gather(
    session: AsyncSession,
    position: Position,
    language: str,
    *,
    min_group: int,
    timezone: str,
    now: datetime,
) -> Submission:
    """Everything the submission's files hold, in `language`."""
    title, statement = texts_in(position, language)
    table, note = await results_table(session, position, language, min_group)
    return Submission(
        title=title,
        statement=statement,
        addressee=position.addressee,
        deadline=position.deadline,
        language=language,
        organizations=await endorsing_names(session, position, language),
        signatures=await signatures(session, position, language),
        generated_at=now,
        timezone=timezone,
        results=table,
        results_note=note,
        labels=labels(language),
    )


async def render_files(
    submission: Submission, position_id: int, kinds: tuple[str, ...] = KINDS
) -> list[tuple[str, bytes]]:
    """(file name, content) of each kind asked, rendered in a worker thread (the PDF takes a few
    seconds of CPU: fonts are parsed and subset)."""
    from bot.services.positions import document

    stem = file_stem(submission, position_id)
    renderers = {
        KIND: ("pdf", document.render_pdf),
        CSV_KIND: ("csv", document.render_csv),
        XLSX_KIND: ("xlsx", document.render_xlsx),
    }
    files = []
    for kind in kinds:
        extension, render = renderers[kind]
        files.append((f"{stem}.{extension}", await asyncio.to_thread(render, submission)))
    return files


async def recipients(session: AsyncSession, position: Position) -> list[Addressee]:
    """Who receives the submission: the drafter while an admin of the drafting organization, else
    its admins (and the drafter, if reachable, when it has none)."""
    admins = (
        reachable_members()
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(Membership.organization_id == position.organization_id, Membership.role == Role.ADMIN)
        .order_by(col(Member.id))
    )
    organization = await session.get(Organization, position.organization_id)
    default = organization.default_language if organization else "en"
    found = (await session.exec(admins)).all()
    drafter = [row for row in found if row[0] == position.created_by]
    if not found and position.created_by is not None:
        drafter = list(
            (await session.exec(reachable_members().where(Member.id == position.created_by))).all()
        )
    return [(member_id, chat_id, language or default) for member_id, chat_id, language, _ in drafter or found]


async def enqueue(session: AsyncSession, position: Position, now: datetime) -> int:
    """The submission's three rows per recipient (the caller commits). Returns how many people."""
    people = await recipients(session, position)
    payload = {"position_id": position.id}
    await insert_rows(
        session,
        [
            pending_row(kind, position.id, to, payload, now, now, organization_id=position.organization_id)
            for to in people
            for kind in KINDS
        ],
    )
    return len(people)


async def close_due_positions(session: AsyncSession, now: datetime) -> list[int]:
    """Scheduler job: close the OPEN positions whose deadline has passed, each claimed once
    (`row_locks.claim`), audit it and queue its submission. The caller commits."""
    due = (Position.status == PositionStatus.OPEN) & (col(Position.deadline) <= now)
    return await _close(session, due, now, None, "deadline", order_by=(col(Position.deadline),))


async def close_now(
    session: AsyncSession, position: Position, now: datetime, actor_telegram_id: int | None
) -> bool:
    """The drafter closes an OPEN position before its deadline: the same closing as the deadline's
    (a double tap closes it once). False when it was no longer open. The caller commits."""
    due = (Position.id == position.id) & (Position.status == PositionStatus.OPEN)
    return bool(await _close(session, due, now, actor_telegram_id, "drafter"))


async def _close(
    session: AsyncSession, due: Any, now: datetime, actor: int | None, reason: str, **options: Any
) -> list[int]:
    """Claim the OPEN positions meeting `due` (CLOSED from then on), queue each one's submission and
    audit its closing."""
    closed = await claim(
        session,
        Position,
        due,
        {"status": PositionStatus.CLOSED, "closed_at": now, "updated_at": now, "submitted_at": now},
        recheck=(Position.status == PositionStatus.OPEN,),
        **options,
    )
    for position_id in closed:
        position = await session.get(Position, position_id, populate_existing=True)
        if position is None:
            continue
        told = await enqueue(session, position, now)
        audit.record(
            session,
            "position.closed",
            actor_telegram_id=actor,
            organization_id=position.organization_id,
            details={"position_id": position_id, "recipients": told, "reason": reason},
        )
    return closed


def exported(
    session: AsyncSession, position: Position, actor_telegram_id: int | None, language: str, now: datetime
) -> None:
    """The on-demand submission, in the audit trail (who took the position's files, which language)."""
    position.submitted_at = now
    session.add(position)
    audit.exported(
        session,
        "position",
        actor_telegram_id,
        position.organization_id,
        position_id=position.id,
        language=language,
    )


async def set_language(session: AsyncSession, position: Position, language: str, now: datetime) -> bool:
    """Make `language` the submission's (one of `languages`); False for any other."""
    if language not in languages(position):
        return False
    await change(session, position, now, submission_language=language)
    return True


async def change(
    session: AsyncSession, position: Position, now: datetime | None = None, **values: Any
) -> Position:
    """Set `values` on the position (the drafter's dialog and choices), stamped `updated_at`."""
    for name, value in values.items():
        setattr(position, name, value)
    position.updated_at = now or utcnow()
    session.add(position)
    await session.flush()
    return position


def attachable(position: Position, survey: Survey) -> bool:
    """A survey of the drafting organization, or a confederation-wide one (run by super-admins)."""
    if survey.status == SurveyStatus.DRAFT:
        return False
    return survey.organization_id == position.organization_id or is_wide(survey.audience)


async def attachable_surveys(session: AsyncSession, position: Position) -> list[Survey]:
    """The latest surveys that may be attached (open or closed), newest first."""
    found = await session.exec(
        select(Survey)
        .where(Survey.status != SurveyStatus.DRAFT, Survey.organization_id == position.organization_id)
        .order_by(col(Survey.id).desc())
        .limit(SURVEYS_LISTED)
    )
    own = list(found.all())
    wide = await session.exec(
        select(Survey)
        .where(Survey.status != SurveyStatus.DRAFT, Survey.organization_id != position.organization_id)
        .order_by(col(Survey.id).desc())
        .limit(SURVEYS_LISTED * 5)
    )
    return sorted([*own, *(s for s in wide.all() if is_wide(s.audience))], key=lambda s: -(s.id or 0))[
        :SURVEYS_LISTED
    ]


async def attach_survey(
    session: AsyncSession, position: Position, survey_id: int | None, now: datetime
) -> bool:
    """Attach the consultation `survey_id` (None: detach). False, nothing changed, for a survey that
    may not be attached (another organization's, a draft, none) or a position no longer open."""
    if position.status not in (PositionStatus.DRAFT, PositionStatus.OPEN):
        return False
    if survey_id is not None:
        survey = await session.get(Survey, survey_id)
        if survey is None or not attachable(position, survey):
            return False
    await change(session, position, now, survey_id=survey_id)
    return True
