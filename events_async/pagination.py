"""Lazy iteration over list endpoints, following `meta.next_page_url`.

A paginator sends nothing until it is iterated. It follows a next page only on the
client's own origin and never sends the same request twice, so a hostile or broken
`next_page_url` cannot send credentials elsewhere or loop forever:

- a `next_page_url` that cannot be parsed, carries userinfo, or names another scheme,
  host or port is a `PaginationError`;
- requests are compared as sent (no fragment), and a chain whose `meta.page` does not
  advance is a `PaginationError`, so a throwaway query parameter cannot loop either;
- with `limit`, models are built only for the items that will be yielded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from yarl import URL

from ._convert import structure, structure_list
from ._text import printable
from ._validate import check_positive_int
from .errors import PaginationError, ResponseDecodeError
from .models import Page, PageMeta

if TYPE_CHECKING:
    from ._transport import Params, Policy

__all__ = [
    "MAX_PAGE_SIZE",
    "AsyncPaginator",
    "EventsPageFormat",
    "PageFormat",
    "advanced",
    "next_page",
    "page_size_for",
]

T = TypeVar("T")

MAX_PAGE_SIZE = 1000


def _origin(url: URL) -> tuple[str, str, int | None]:
    return (url.scheme.lower(), (url.host or "").lower(), url.port)


class PageFormat(Protocol[T]):
    """How one API's list pages read: the name of its next-page link (for messages) and
    how a decoded page becomes a `Page`."""

    @property
    def link_name(self) -> str:
        """The field that links to the next page (`next_page_url`, `next_page_uri`)."""
        ...  # pragma: no cover

    def read(self, data: dict[str, Any] | None, url: URL, wanted: int | None) -> Page[T]:
        """The page `url` answered with `data`: no more than `wanted` items (None: all),
        its `meta.page` and `meta.next_page_url` (the link as given) filled in."""
        ...  # pragma: no cover


class EventsPageFormat(Generic[T]):
    """The Events API's pages: `{"<key>": [...], "meta": {..., "next_page_url"}}`; the
    items' key is `meta.key` when the page holds it, else `key`."""

    link_name = "next_page_url"

    def __init__(self, key: str, model: type[T]) -> None:
        self.key = key
        self.model = model

    def read(self, data: dict[str, Any] | None, url: URL, wanted: int | None) -> Page[T]:
        """The page's items as models (only the `wanted` first are built) and its meta."""
        if data is None or not isinstance(data.get("meta"), dict):
            raise ResponseDecodeError(f"GET {url} returned a list page without a meta block")
        meta = structure(data["meta"], PageMeta)
        key = meta.key if meta.key in data else self.key
        if key not in data:
            raise ResponseDecodeError(f"GET {url} returned a list page without {key!r}")
        items = data[key]
        if wanted is not None and isinstance(items, list) and len(items) > wanted:
            items = items[:wanted]
        return Page(items=structure_list(items, self.model), meta=meta)


def page_size_for(page_size: int | None, limit: int | None) -> int | None:
    """The `PageSize` to ask for: `page_size` (1 to 1000), else `min(limit, 1000)`; both
    checked."""
    if limit is not None:
        check_positive_int(limit, "limit")
    if page_size is not None:
        return check_positive_int(page_size, "page_size", MAX_PAGE_SIZE)
    return None if limit is None else min(limit, MAX_PAGE_SIZE)


class AsyncPaginator(Generic[T]):
    """The items of a list endpoint, fetched page by page as they are consumed.

    `async for item in paginator` yields every item (each loop starts from the first
    page); `paginator.pages()` yields each `Page`; `await paginator.collect()` returns
    them all as a list; `await anext(paginator)` walks one iteration shared by every
    `anext`. With `limit`, no more than that many items are yielded and no page beyond
    them is fetched. Nothing is sent until it is iterated.
    """

    def __init__(
        self,
        policy: Policy,
        url: URL,
        params: Params,
        page_format: PageFormat[T],
        *,
        limit: int | None = None,
    ) -> None:
        if limit is not None:
            check_positive_int(limit, "limit")
        self._policy = policy
        self._url = url.extend_query(params) if params else url
        self._format = page_format
        self._limit = limit
        self._iterator: AsyncIterator[T] | None = None

    @classmethod
    def for_events(
        cls,
        policy: Policy,
        url: URL,
        params: Params,
        *,
        key: str,
        model: type[T],
        page_size: int | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[T]:
        """An Events API list: `PageSize` as `page_size_for` says, items under `key`."""
        size = page_size_for(page_size, limit)
        if size is not None:
            params = [*params, ("PageSize", str(size))]
        return cls(policy, url, params, EventsPageFormat(key, model), limit=limit)

    def __repr__(self) -> str:
        model = getattr(self._format, "model", None)
        name = getattr(model, "__name__", type(self._format).__name__)
        return f"<AsyncPaginator[{name}] {self._url}>"

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def __anext__(self) -> T:
        """The next item of the iteration every `anext` shares."""
        if self._iterator is None:
            self._iterator = self._items()
        return await self._iterator.__anext__()

    async def _items(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def collect(self) -> list[T]:
        """Every item (up to `limit`), fetched now, as a list."""
        items: list[T] = []
        async for page in self.pages():
            items.extend(page.items)
        return items

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Each page in turn, its items cut so that no more than `limit` are yielded."""
        remaining = self._limit
        url: URL | None = self._url
        seen: set[URL] = set()
        last_page: int | None = None
        read = self._format.read
        while url is not None:
            seen.add(url)
            data = await self._policy.request("GET", url)
            page = read(data, url, remaining)
            last_page = advanced(url, page.meta.page, last_page)
            if remaining is not None:
                remaining -= len(page.items)
                if remaining <= 0:
                    yield page
                    return
            yield page
            link = page.meta.next_page_url
            url = (
                next_page(link, url, self._policy.origin, seen, self._format.link_name)
                if link
                else None
            )


def advanced(url: URL, page: int | None, last_page: int | None) -> int | None:
    """The last page number seen, once `page` (answered by `url`) is counted; a page
    number that does not rise past the last is a `PaginationError`: the list loops."""
    if page is None:
        return last_page
    if last_page is not None and page <= last_page:
        raise PaginationError(
            f"GET {url} answered page {page} after page {last_page}: the list does not advance"
        )
    return page


def next_page(
    text: str, current: URL, origin: URL, seen: set[URL], name: str = "next_page_url"
) -> URL:
    """The next page's URL (`text`, the field `name`, absolute or relative to `current`),
    checked: parsable, no userinfo, on `origin`, not among the requests already `seen`."""
    url = _parse_next(text, current, name)
    if url.user is not None or url.password is not None:
        raise PaginationError(f"{name} carries userinfo; not following it")
    if _origin(url) != _origin(origin):
        raise PaginationError(f"{name} is on another origin ({url.origin()}); not following it")
    if url in seen:
        raise PaginationError(f"{name} {url} was already read: the list loops")
    return url


def _parse_next(text: str, current: URL, name: str) -> URL:
    """`next_page_url` resolved against the page that named it, as it would be sent.

    Anything yarl cannot parse, or whose port is out of range, is a `PaginationError`.
    """
    try:
        url = current.join(URL(text)).with_fragment(None)
        url.port  # noqa: B018 - parses the port, which may be out of range
        str(url)  # IDNA-encodes the host, which may fail
    except (ValueError, UnicodeError, TypeError, IndexError) as exc:  # yarl: IndexError too
        shown = printable(text[:200])
        raise PaginationError(f"{name} cannot be parsed ({exc}): {shown!r}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise PaginationError(f"{name} is not an http(s) URL: {printable(text[:200])!r}")
    return url
