"""Trainings: courses of one or more sessions with seats, eligibility questions, a waitlist,
attendance, completion records and a feedback survey.

A training reuses events: each session is an `Event` with `training_id` set, so reminders
(`bot.services.reminders`, to members whose RSVP is Going), calendar files, attendance and check-in
codes work unchanged. Session events never appear in /events, get no event notices and refuse
event RSVPs; seats are held at the training level, under one row lock (`lock`).

The package, by what each module holds: `rules` (limits, `TrainingError`, validation, language
versions), `queries` (reading trainings, sessions and counts), `notices` (notice rows and their
outbox rows), `create` (drafts and publishing), `lock` (the row lock), `seats` (sign-ups, the
waitlist and promotion), `roster` (who signed up, messages, CSV files), `attendance`, `lifecycle`
(closing and cancelling), `feedback` (completion and the feedback survey) and `members` (what
members see; /mydata and /forget). The public names are re-exported here, so
`from bot.services import trainings as service; service.sign_up(...)` works; new code may import
from the submodules.
"""

from __future__ import annotations

from bot.services.trainings.attendance import attendance, completion, mark_attendance, session_ids
from bot.services.trainings.create import create_training, delete_draft, publish_training
from bot.services.trainings.feedback import feedback_averages, feedback_questions, send_due_feedback
from bot.services.trainings.lifecycle import cancel_training, close_training
from bot.services.trainings.lock import Locked, deadline_open, lock_training, refusal
from bot.services.trainings.members import erase_member, member_signups, my_trainings, open_trainings_for
from bot.services.trainings.notices import count_audience, count_audience_of, notify
from bot.services.trainings.queries import (
    LISTED,
    TrainingPage,
    count_signups,
    fresh,
    get_training,
    my_signup,
    next_session,
    organization_trainings,
    place_in_line,
    seats_left,
    sessions_of,
    signup_counts,
    visible_training,
    waitlist_position,
)
from bot.services.trainings.roster import (
    Roster,
    RosterEntry,
    export_attendance_csv,
    export_roster_csv,
    message_participants,
    roster,
)
from bot.services.trainings.rules import (
    ANSWER_MAX,
    DURATION_MAX,
    FEEDBACK_COMMENT,
    FEEDBACK_DAYS,
    FEEDBACK_RATING,
    FIELDS,
    HOLDING,
    MESSAGE_MAX,
    MUTE_TOPIC,
    N_,
    NOTICE_KIND,
    OPTION_MAX,
    OPTIONS_MAX,
    QUESTION_MAX,
    QUESTIONS_MAX,
    SESSION_REMINDERS,
    SESSIONS_MAX,
    SOON,
    TAKING,
    TRAINER_MAX,
    SessionInput,
    TrainingError,
    training_text,
    validate_answer,
    validate_answers,
    validate_capacity,
    validate_message,
    validate_questions,
    validate_sessions,
    validate_training,
    version_for,
)
from bot.services.trainings.seats import (
    SignupResult,
    cancel_signup,
    promote_from_waitlist,
    remove_participant,
    set_capacity,
    sign_up,
    withdraw_member,
)

__all__ = [
    "ANSWER_MAX",
    "DURATION_MAX",
    "FEEDBACK_COMMENT",
    "FEEDBACK_DAYS",
    "FEEDBACK_RATING",
    "FIELDS",
    "HOLDING",
    "LISTED",
    "MESSAGE_MAX",
    "MUTE_TOPIC",
    "NOTICE_KIND",
    "N_",
    "OPTIONS_MAX",
    "OPTION_MAX",
    "QUESTIONS_MAX",
    "QUESTION_MAX",
    "SESSIONS_MAX",
    "SESSION_REMINDERS",
    "SOON",
    "TAKING",
    "TRAINER_MAX",
    "Locked",
    "Roster",
    "RosterEntry",
    "SessionInput",
    "SignupResult",
    "TrainingError",
    "TrainingPage",
    "attendance",
    "cancel_signup",
    "cancel_training",
    "close_training",
    "completion",
    "count_audience",
    "count_audience_of",
    "count_signups",
    "create_training",
    "deadline_open",
    "delete_draft",
    "erase_member",
    "export_attendance_csv",
    "export_roster_csv",
    "feedback_averages",
    "feedback_questions",
    "fresh",
    "get_training",
    "lock_training",
    "mark_attendance",
    "member_signups",
    "message_participants",
    "my_signup",
    "my_trainings",
    "next_session",
    "notify",
    "open_trainings_for",
    "organization_trainings",
    "place_in_line",
    "promote_from_waitlist",
    "publish_training",
    "refusal",
    "remove_participant",
    "roster",
    "seats_left",
    "send_due_feedback",
    "session_ids",
    "sessions_of",
    "set_capacity",
    "sign_up",
    "signup_counts",
    "training_text",
    "validate_answer",
    "validate_answers",
    "validate_capacity",
    "validate_message",
    "validate_questions",
    "validate_sessions",
    "validate_training",
    "version_for",
    "visible_training",
    "waitlist_position",
    "withdraw_member",
]
