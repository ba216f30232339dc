"""The list contract every app answers: items, total, page, page_size, next and prev links."""

from __future__ import annotations

from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar import Request

T = TypeVar("T")

MAX_PAGE_SIZE = 100


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int
    next: str | None
    prev: str | None


def page_links(
    request: Request[Any, Any, Any], *, page: int, page_size: int, total: int
) -> tuple[str | None, str | None]:
    """Next/prev URLs that keep every other query parameter (repeated ones included)."""
    params = [
        (k, v) for k, v in request.query_params.multi_items() if k not in {"page", "page_size"}
    ]

    def link(target: int) -> str:
        query = urlencode([*params, ("page", str(target)), ("page_size", str(page_size))])
        return f"{request.url.path}?{query}"

    has_next = page * page_size < total
    return (link(page + 1) if has_next else None, link(page - 1) if page > 1 else None)


def make_page(
    request: Request[Any, Any, Any], items: list[T], *, total: int, page: int, page_size: int
) -> Page[T]:
    next_link, prev_link = page_links(request, page=page, page_size=page_size, total=total)
    return Page(
        items=items, total=total, page=page, page_size=page_size, next=next_link, prev=prev_link
    )
