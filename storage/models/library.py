"""The resource library: resources and best practices published by an organization (or for the
whole confederation), members' suggestions, saved resources, usefulness votes, views, and the
weekly digest switch.

Full-text search runs on `search_text` (the folded title, summary, body, tags, translations and
best-practice fields, see `bot.services.library.search`): an FTS5 table kept in sync by triggers on
SQLite; on PostgreSQL a stored generated column `search_vector` (`to_tsvector('simple',
search_text)`) with a GIN index, so a phrase's recheck reads the vector instead of computing it
again for every candidate row. Both are created by the
migration (0008) only: the models do not know them, so schema comparisons skip them
(`is_search_index`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

__all__ = [
    "LibraryDigestOptOut",
    "Resource",
    "ResourceKind",
    "ResourceSave",
    "ResourceScope",
    "ResourceStatus",
    "ResourceView",
    "ResourceVote",
    "is_search_index",
]

FTS_TABLE: Final = "resources_fts"  # SQLite FTS5 (and its shadow tables resources_fts_*)
PG_SEARCH_INDEX: Final = "ix_resources_search"  # PostgreSQL GIN index on the column below
PG_SEARCH_VECTOR: Final = "search_vector"  # PostgreSQL: a stored generated tsvector of search_text


def is_search_index(name: str | None, kind: str, *_: Any) -> bool:
    """The full-text objects the migration creates beside the models (for Alembic's `include_name`)."""
    return bool(name) and (str(name).startswith(FTS_TABLE) or name in (PG_SEARCH_INDEX, PG_SEARCH_VECTOR))


class ResourceKind(StrEnum):
    RESOURCE = "resource"
    BEST_PRACTICE = "best_practice"  # problem, what was done, result, contact


class ResourceScope(StrEnum):
    ORGANIZATION = "org"  # the organization's members
    CONFEDERATION = "confederation"  # every member of every organization


class ResourceStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    SUGGESTED = "suggested"  # by a member, waiting for the organization's staff
    REJECTED = "rejected"  # a suggestion the staff turned down (with a reason)
    WITHDRAWN = "withdrawn"  # unpublished by the staff


class Resource(SQLModel, table=True):
    __tablename__ = "resources"
    __table_args__ = (
        Index("ix_resources_org_status", "organization_id", "status"),
        # Covering the category counts of /resources (visibility is scope or organization).
        Index("ix_resources_status_category", "status", "category", "scope", "organization_id"),
        Index("ix_resources_status_published", "status", "published_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id")
    scope: ResourceScope = Field(default=ResourceScope.ORGANIZATION, sa_type=String(16))
    kind: ResourceKind = Field(default=ResourceKind.RESOURCE, sa_type=String(16))
    status: ResourceStatus = Field(default=ResourceStatus.DRAFT, sa_type=String(16))
    title: str = Field(default="", sa_type=String(255))
    summary: str | None = Field(default=None, sa_type=Text)
    body: str | None = Field(default=None, sa_type=Text)
    url: str | None = Field(default=None, sa_type=String(2048))
    file_id: str | None = Field(default=None, sa_type=String(255))
    file_kind: str | None = Field(default=None, sa_type=String(16))  # "document" | "photo"
    category: str | None = Field(default=None, sa_type=String(32))
    language: str = Field(default="en", sa_type=String(8))  # the language of the texts above
    languages: list[str] = Field(  # the languages the resource itself is available in
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    # Staff-written translations: {"fr": {"title": "...", "summary": "..."}}.
    translations: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    problem: str | None = Field(default=None, sa_type=Text)
    what_we_did: str | None = Field(default=None, sa_type=Text)
    result: str | None = Field(default=None, sa_type=Text)
    contact: str | None = Field(default=None, sa_type=String(255))
    note: str | None = Field(default=None, sa_type=Text)  # a member's note with a suggestion
    reason: str | None = Field(default=None, sa_type=Text)  # why a suggestion was rejected
    created_by: int | None = Field(
        default=None, sa_column=Column(ForeignKey("members.id", ondelete="SET NULL"), nullable=True)
    )
    decided_by: int | None = Field(
        default=None, sa_column=Column(ForeignKey("members.id", ondelete="SET NULL"), nullable=True)
    )
    # Folded texts for the full-text index, and " en fr " (the text's language, its translations and
    # the languages it is available in) for "in your language first".
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    search_langs: str = Field(default="", sa_type=String(200))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ResourceSave(SQLModel, table=True):
    """A member's favourite (⭐ Save)."""

    __tablename__ = "resource_saves"
    __table_args__ = (UniqueConstraint("resource_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(sa_column=Column(ForeignKey("resources.id", ondelete="CASCADE"), nullable=False))
    member_id: int = Field(
        sa_column=Column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ResourceVote(SQLModel, table=True):
    """Was it useful? One vote per member and resource, changeable."""

    __tablename__ = "resource_votes"
    __table_args__ = (UniqueConstraint("resource_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(sa_column=Column(ForeignKey("resources.id", ondelete="CASCADE"), nullable=False))
    member_id: int = Field(sa_column=Column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False))
    useful: bool
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ResourceView(SQLModel, table=True):
    """A member opened the card (once per member: usage counts people, not taps)."""

    __tablename__ = "resource_views"
    __table_args__ = (UniqueConstraint("resource_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(sa_column=Column(ForeignKey("resources.id", ondelete="CASCADE"), nullable=False))
    member_id: int = Field(sa_column=Column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False))
    viewed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LibraryDigestOptOut(SQLModel, table=True):
    """A member who switched the weekly digest off in /profile."""

    __tablename__ = "library_digest_optouts"

    member_id: int = Field(
        sa_column=Column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
