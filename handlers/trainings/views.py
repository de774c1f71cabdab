"""The coordinators' screens of /managetrainings, built from what the services return: the list
of trainings, a training's page, the roster and a session's attendance toggles (each a text and
its keyboard, within Telegram's limits), and how trainings and participants are named on them."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import Context
from bot.i18n import _, ngettext
from bot.services.events import telegram_length
from bot.services.trainings.attendance import attendance
from bot.services.trainings.queries import organization_trainings, sessions_of, signup_counts
from bot.services.trainings.roster import roster
from bot.services.trainings.rules import training_text, version_for
from handlers.trainings.callbacks import TrainingAdmin
from handlers.trainings.managed import RUNNING
from handlers.trainings.texts import button_label, duration_label, markup, short_when
from storage.models import Event, Member, SignupStatus, Training, TrainingStatus


def title_of(training: Training, ctx: Context) -> str:
    """The title in the version a coordinator reading in their language gets."""
    version = version_for(training, ctx.locale, ctx.organization.default_language)
    return training_text(training, version)[0]


def status_label(status: TrainingStatus) -> str:
    labels = {
        TrainingStatus.OPEN: _("🟢 sign-ups open"),
        TrainingStatus.CLOSED: _("🔒 sign-ups closed"),
        TrainingStatus.COMPLETED: _("🏁 completed"),
        TrainingStatus.CANCELLED: _("✖ cancelled"),
        TrainingStatus.DRAFT: _("📝 draft"),
    }
    return labels[status]


def who(member: Member) -> str:
    """A participant as HTML (escaped)."""
    name = escape(member.display_name) if member.display_name else _("member #{id}").format(id=member.id)
    return f"{name} (@{escape(member.username)})" if member.username else name


def plain_name(member: Member) -> str:
    """A participant on a button (plain text)."""
    return member.display_name or (f"@{member.username}" if member.username else f"#{member.id}")


def confirm_keyboard(yes: str, confirmed: TrainingAdmin) -> InlineKeyboardMarkup:
    """Yes (`confirmed`) or "← No, keep it", under a question before a change."""
    builder = InlineKeyboardBuilder()
    builder.button(text=yes, callback_data=confirmed)
    builder.button(text=_("← No, keep it"), callback_data=TrainingAdmin(action="keep", id=confirmed.id))
    builder.adjust(1)
    return builder.as_markup()


# -- the list and a training's page ----------------------------------------------------------


PAGE_SIZE: Final = 5  # trainings per list page


async def list_page(ctx: Context, offset: int) -> tuple[str, InlineKeyboardMarkup | None]:
    offset = max(0, offset)
    page = await organization_trainings(ctx.session, ctx.organization_id, offset, PAGE_SIZE)
    if not page.trainings and offset > 0:  # the list got shorter since that button was sent
        offset = 0
        page = await organization_trainings(ctx.session, ctx.organization_id, 0, PAGE_SIZE)
    if not page.trainings:
        return _("There are no trainings yet. /newtraining creates one."), None
    lines = [
        _("🎓 <b>Trainings</b> ({first}–{last} of {total})").format(
            first=offset + 1, last=offset + len(page.trainings), total=page.total
        )
    ]
    builder = InlineKeyboardBuilder()
    for number, training in enumerate(page.trainings, start=offset + 1):
        title = title_of(training, ctx)
        counts = await signup_counts(ctx.session, training.id or 0)
        lines += [
            "",
            f"{number}. <b>{escape(title)}</b> · {status_label(training.status)}",
            _("🎟 {confirmed} of {capacity} seats taken · ⏳ waitlist: {waiting}").format(
                confirmed=counts[SignupStatus.CONFIRMED],
                capacity=training.capacity,
                waiting=counts[SignupStatus.WAITLISTED],
            ),
        ]
        builder.button(
            text=button_label(f"{number}. {title}"),
            callback_data=TrainingAdmin(action="open", id=training.id or 0),
        )
    sizes = [1] * len(page.trainings)
    navigation = 0
    if offset > 0:
        builder.button(text="◀️", callback_data=TrainingAdmin(action="page", id=max(0, offset - PAGE_SIZE)))
        navigation += 1
    if offset + PAGE_SIZE < page.total:
        builder.button(text="▶️", callback_data=TrainingAdmin(action="page", id=offset + PAGE_SIZE))
        navigation += 1
    if navigation:
        sizes.append(navigation)
    builder.adjust(*sizes)
    return "\n".join(lines), builder.as_markup()


def _session_line(number: int, event: Event, locale: str, zone: str) -> str:
    minutes = int(((event.ends_at or event.starts_at) - event.starts_at).total_seconds() // 60)
    where = f"📍 {escape(event.place)}" if event.place else f"🔗 {escape(event.online_url or '')}"
    when = short_when(event.starts_at, locale, zone)
    length = f" · {escape(duration_label(minutes))}" if minutes > 0 else ""
    return f"{number}. {escape(when)}{length} · {where}"


async def manage_view(ctx: Context, training: Training) -> tuple[str, InlineKeyboardMarkup]:
    ident, locale, zone = training.id or 0, ctx.locale, ctx.zone
    counts = await signup_counts(ctx.session, ident)
    sessions = await sessions_of(ctx.session, ident)
    lines = [
        _("🎓 Training #{id} · {status}").format(id=ident, status=status_label(training.status)),
        "",
        f"<b>{escape(title_of(training, ctx))}</b>",
        _("👤 Trainer: {name}").format(name=escape(training.trainer)),
        _(
            "🎟 Seats: {capacity} · ✅ confirmed: {confirmed} · ⏳ waitlist: {waiting} · "
            "✖ cancelled: {cancelled}"
        ).format(
            capacity=training.capacity,
            confirmed=counts[SignupStatus.CONFIRMED],
            waiting=counts[SignupStatus.WAITLISTED],
            cancelled=counts[SignupStatus.CANCELLED],
        ),
    ]
    if training.signup_deadline is not None:
        lines.append(
            _("⏳ Sign up until {when}").format(
                when=escape(short_when(training.signup_deadline, locale, zone))
            )
        )
    lines += ["", _("🗓 <b>Sessions</b>")]
    lines += [_session_line(number, event, locale, zone) for number, event in enumerate(sessions, start=1)]
    builder = InlineKeyboardBuilder()

    def add(text: str, action: str) -> None:
        builder.button(text=text, callback_data=TrainingAdmin(action=action, id=ident))

    add(_("👥 Roster"), "roster")
    add(_("✅ Attendance"), "att")
    add(_("📄 Roster CSV"), "csv_r")
    add(_("📄 Attendance CSV"), "csv_a")
    if training.status in RUNNING:
        add(_("🎟 Seats"), "seats")
        add(_("✉️ Message participants"), "msg")
    if training.feedback_survey_id is not None:
        add(_("⭐ Feedback"), "fb")
    if training.status == TrainingStatus.OPEN:
        add(_("🔒 Close sign-ups"), "close")
    if training.status in RUNNING:
        add(_("✖ Cancel training"), "cancel")
    builder.adjust(2)
    return "\n".join(lines), builder.as_markup()


# -- the roster -------------------------------------------------------------------------------


ROSTER_PAGE: Final = 15  # people per roster page
TEXT_BUDGET: Final = 3900  # stay clear of Telegram's 4096


async def roster_view(
    session: AsyncSession, training: Training, title: str, offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Confirmed, then the waitlist in order, then cancelled, `ROSTER_PAGE` people at a time."""
    people = await roster(session, training.id or 0)
    ident = training.id or 0
    entries = [
        *((_("<b>Confirmed</b>"), entry) for entry in people.confirmed),
        *((_("<b>Waitlist</b>"), entry) for entry in people.waitlisted),
        *((_("<b>Cancelled</b>"), entry) for entry in people.cancelled),
    ]
    offset = max(0, min(offset, max(0, len(entries) - 1)))
    lines = [
        _("👥 <b>{title}</b>").format(title=escape(title)),
        _(
            "✅ Confirmed: {confirmed} of {capacity} · ⏳ Waitlist: {waiting} · ✖ Cancelled: {cancelled}"
        ).format(
            confirmed=len(people.confirmed),
            capacity=training.capacity,
            waiting=len(people.waitlisted),
            cancelled=len(people.cancelled),
        ),
    ]
    if not entries:
        lines += ["", _("Nobody has signed up yet.")]
    builder = InlineKeyboardBuilder()
    used, heading, shown = sum(telegram_length(line) + 1 for line in lines) + 200, None, 0
    questions = [str(question.get("text", "")) for question in training.questions]
    numbers = {
        id(entry): number
        for group in (people.confirmed, people.waitlisted, people.cancelled)
        for number, entry in enumerate(group, start=1)
    }
    for section, entry in entries[offset : offset + ROSTER_PAGE]:
        block = []
        if section != heading:
            block += ["", section]
        line = f"{numbers[id(entry)]}. {who(entry.member)}"
        block.append(line)
        for question, answer in zip(questions, entry.answers, strict=False):
            block.append(f"    ↳ {escape(question)}: {escape(answer)}")
        size = sum(telegram_length(item) + 1 for item in block)  # as Telegram counts: emoji are 2
        if used + size > TEXT_BUDGET:
            break
        lines += block
        used, heading, shown = used + size, section, shown + 1
        if entry.status in (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED):
            builder.button(
                text=button_label(f"✖ {plain_name(entry.member)}"),
                callback_data=TrainingAdmin(action="rm", id=ident, member=entry.member.id or 0),
            )
    removable = len(list(builder.buttons))
    if entries:
        lines += [
            "",
            _("Showing {first}–{last} of {total}.").format(
                first=offset + 1, last=offset + shown, total=len(entries)
            ),
        ]
    if removable:
        lines.append(_("Press ✖ next to a name to remove that person."))
    sizes = [2] * (removable // 2) + [1] * (removable % 2)
    navigation = 0
    if offset > 0:
        builder.button(
            text="◀️",
            callback_data=TrainingAdmin(
                action="roster", id=ident, value="nav", page=max(0, offset - ROSTER_PAGE)
            ),
        )
        navigation += 1
    if offset + shown < len(entries):
        builder.button(
            text="▶️", callback_data=TrainingAdmin(action="roster", id=ident, value="nav", page=offset + shown)
        )
        navigation += 1
    if navigation:
        sizes.append(navigation)
    return "\n".join(lines), markup(builder, *sizes)


# -- attendance -------------------------------------------------------------------------------


TOGGLES: Final = 20  # attendance buttons per page


async def session_view(
    ctx: Context, training: Training, sessions: list[Event], event: Event, offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One session's confirmed participants with their ✅/❌ toggles, `TOGGLES` at a time."""
    ident, event_id, title = training.id or 0, event.id or 0, title_of(training, ctx)
    confirmed = (await roster(ctx.session, ident)).confirmed
    marks = await attendance(ctx.session, ident)
    present = sum(1 for entry in confirmed if marks.get((entry.member.id or 0, event_id), False))
    number = next(index for index, item in enumerate(sessions, start=1) if item.id == event_id)
    lines = [
        _("✅ <b>{title}</b>: session {number} of {total}").format(
            title=escape(title), number=number, total=len(sessions)
        ),
        f"🕒 {escape(short_when(event.starts_at, ctx.locale, ctx.zone))}",
        ngettext(
            "{present} of {count} participant attended.",
            "{present} of {count} participants attended.",
            len(confirmed),
        ).format(present=present, count=len(confirmed)),
    ]
    lines.append(
        _("Tap a name to switch between ✅ attended and ❌ absent.")
        if confirmed
        else _("Nobody is confirmed.")
    )
    offset = max(0, min(offset, max(0, len(confirmed) - 1)))
    offset -= offset % TOGGLES
    builder = InlineKeyboardBuilder()
    for entry in confirmed[offset : offset + TOGGLES]:
        mark = "✅" if marks.get((entry.member.id or 0, event_id), False) else "❌"
        builder.button(
            text=button_label(f"{mark} {plain_name(entry.member)}"),
            callback_data=TrainingAdmin(
                action="mark", id=ident, event=event_id, member=entry.member.id or 0, page=offset
            ),
        )
    shown = min(TOGGLES, max(0, len(confirmed) - offset))
    sizes = [2] * (shown // 2) + [1] * (shown % 2)
    navigation = 0
    for condition, page, arrow in (
        (offset > 0, offset - TOGGLES, "◀️"),
        (offset + TOGGLES < len(confirmed), offset + TOGGLES, "▶️"),
    ):
        if condition:
            builder.button(
                text=arrow,
                callback_data=TrainingAdmin(action="att_s", id=ident, event=event_id, page=page, value="nav"),
            )
            navigation += 1
    if navigation:
        sizes.append(navigation)
    return "\n".join(lines), markup(builder, *sizes)
