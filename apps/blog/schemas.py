"""Request and response shapes of the blog API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200, examples=["Hello, world"])]
Body = Annotated[str, msgspec.Meta(max_length=200_000)]
TagName = Annotated[str, msgspec.Meta(min_length=1, max_length=50, examples=["python"])]
TagList = Annotated[list[TagName], msgspec.Meta(max_length=20)]
Status = Literal["draft", "published"]


class ArticleCreate(msgspec.Struct):
    """A new article; `published_at` is set when it is first published unless given."""

    title: Title
    body: Body = ""
    tags: TagList = msgspec.field(default_factory=list)
    status: Status = "draft"
    published_at: datetime | None = None


class ArticleReplace(msgspec.Struct):
    """PUT: every field is replaced; an absent `published_at` keeps the first publication time."""

    title: Title
    body: Body = ""
    tags: TagList = msgspec.field(default_factory=list)
    status: Status = "draft"
    published_at: datetime | None = None


class ArticlePatch(msgspec.Struct):
    """PATCH: only the fields sent change."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    body: Body | msgspec.UnsetType = msgspec.UNSET
    tags: TagList | msgspec.UnsetType = msgspec.UNSET
    status: Status | msgspec.UnsetType = msgspec.UNSET
    published_at: datetime | msgspec.UnsetType = msgspec.UNSET


class ArticleRead(msgspec.Struct):
    id: UUID
    slug: str
    title: str
    body: str
    status: str
    tags: list[str]
    author_id: UUID
    author_name: str
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime


class TagCount(msgspec.Struct):
    name: str
    count: int
    """Published articles carrying the tag (drafts are not counted, so none leak)."""
