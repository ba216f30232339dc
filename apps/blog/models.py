"""Blog tables: articles, the tags they carry, and the link between them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Column, ColumnElement, ForeignKey, Index, String, Table, Text, func, text
from sqlalchemy import literal_column as sql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from apps.kernel.db import Base, metadata

DRAFT = "draft"
PUBLISHED = "published"
STATUSES = (DRAFT, PUBLISHED)

article_tag = Table(
    "blog_article_tag",
    metadata,
    Column(
        "article_id",
        GUID,
        ForeignKey("blog_article.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("tag_id", GUID, ForeignKey("blog_tag.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_blog_article_tag_tag_id", "tag_id"),
)
"""Which tags an article carries; the primary key (article_id, tag_id) serves article lookups."""


class Tag(Base):
    __tablename__ = "blog_tag"

    name: Mapped[str] = mapped_column(String(50), unique=True)
    """Normalised (trimmed, lower-cased, single spaces), so `Python` and `python` are one tag."""


class Article(Base):
    __tablename__ = "blog_article"
    __table_args__ = (
        Index("ix_blog_article_status_published_at", "status", "published_at", "id"),
        Index("ix_blog_article_status_created_at", "status", "created_at"),
    )

    author_id: Mapped[UUID] = mapped_column(index=True)
    """The identity user who wrote it (no foreign key: identity may live in another database)."""
    author_name: Mapped[str] = mapped_column(String(100), default="")
    """The author's display name when they last wrote it, taken from their access token."""
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)

    tags: Mapped[list[Tag]] = relationship(
        secondary=article_tag, lazy="selectin", order_by=Tag.name
    )
    """Always loaded with the article in one extra query per batch (no N+1)."""


SEARCH_CONFIG = text("'english'::regconfig")
"""Postgres text search configuration: English stemming and stop words."""


def search_document(
    title: ColumnElement[str] | Mapped[str], body: ColumnElement[str] | Mapped[str]
) -> ColumnElement[Any]:
    """Postgres full-text document of an article; queries and the GIN index share this exact
    expression (literal SQL, no bound parameters) so the planner can use the index."""
    return func.to_tsvector(SEARCH_CONFIG, title.op("||")(sql("' '")).op("||")(body))


Index(
    "ix_blog_article_search",
    search_document(Article.__table__.c.title, Article.__table__.c.body),
    postgresql_using="gin",
).ddl_if(dialect="postgresql")
