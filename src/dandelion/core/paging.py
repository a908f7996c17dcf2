"""Pagination whose count is bounded: a big queue or a frequent search word is not counted to its last row.

Counting every match of a list is the most expensive part of a page once an organisation holds millions of
conversations (a search for a product name matches tens of thousands, and ``COUNT(*)`` must find them all, where the
page itself needs 25). :class:`BoundedPaginator` counts at most ``limit`` rows (``SELECT COUNT(*) FROM (… LIMIT
limit + 1)``): under the limit the count is exact, as before; over it the count reads "10,000+" (``count_exact`` is
false), the pages are still reachable by number, and whether a next page exists is read from the rows themselves
(one row more than a page is fetched). The last page of an uncounted list is found by counting it exactly
(:meth:`BoundedPaginator.count_all`), since someone asked for it by name.

Used by the REST API (``dandelion.api.pagination``) and the HTML lists alike.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, cast

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet


def count_limit(searching: bool = False, *, screen: bool = False) -> int:
    """Rows counted at most: ``DANDELION_COUNT_LIMIT`` (default 10,000) for the API, ``DANDELION_SCREEN_COUNT_LIMIT``
    (default 1,000) for the inbox screen, whose page counts each tab too, and ``DANDELION_SEARCH_COUNT_LIMIT``
    (default 1,000) for a text search, whose matches are the dearest rows to find."""
    if searching:
        return int(getattr(settings, "DANDELION_SEARCH_COUNT_LIMIT", 1_000))
    if screen:
        return int(getattr(settings, "DANDELION_SCREEN_COUNT_LIMIT", 1_000))
    return int(getattr(settings, "DANDELION_COUNT_LIMIT", 10_000))


def bounded_count(qs, limit: int) -> tuple[int, bool]:
    """``(count, exact)``: the rows of ``qs``, counted up to ``limit``; over it ``(limit, False)``."""
    if isinstance(qs, (list, tuple)):
        n = len(qs)
    else:
        n = qs.order_by()[:limit + 1].count()  # the order does not change how many: let the database pick a plan
    return (n, True) if n <= limit else (limit, False)


def count_label(count: int, exact: bool) -> str:
    return f"{count:,}" if exact else f"{count:,}+"


#: Offset from which a page's rows are fetched by key after ordering the keys alone (see BoundedPaginator._rows).
DEFERRED_JOIN_AFTER = 500


class BoundedPage(Page):
    def __init__(self, object_list, number, paginator, *, more: bool | None = None):
        super().__init__(object_list, number, paginator)
        self._more = more

    def has_next(self) -> bool:
        if self._more is not None:
            return self._more
        return super().has_next()


class BoundedPaginator(Paginator):
    """A Django paginator counting at most ``limit`` rows (see the module)."""

    def __init__(self, object_list, per_page, *, limit: int | None = None,
                 counted: tuple[int, bool] | None = None, **kwargs):
        """``counted``: ``bounded_count(object_list, limit)`` already made by the caller (the inbox screen's tab
        chip of the same list), used instead of counting again."""
        super().__init__(object_list, per_page, **kwargs)
        self.limit = count_limit() if limit is None else limit
        self.count_exact = True
        if counted is not None:
            self.__dict__["count"], self.count_exact = counted

    @cached_property
    def count(self) -> int:
        n, self.count_exact = bounded_count(self.object_list, self.limit)
        return n

    def count_all(self) -> int:
        """Count every row (for "the last page"), making the count exact."""
        if not self.count_exact or "count" not in self.__dict__:
            n = len(self.object_list) if isinstance(self.object_list, (list, tuple)) else \
                cast(QuerySet, self.object_list).order_by().count()
            self.__dict__["count"], self.count_exact = n, True
            self.__dict__.pop("num_pages", None)
        return self.count

    @property
    def count_display(self) -> str:
        return count_label(self.count, self.count_exact)

    def validate_number(self, number):
        self.count  # noqa: B018 - decides whether the count is exact
        if self.count_exact:
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if self.count_exact:
            top = min(bottom + self.per_page, self.count)
            if top + self.orphans >= self.count:
                top = self.count
            return BoundedPage(self._rows(bottom, top), number, self)
        rows = self._rows(bottom, bottom + self.per_page + 1)
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return BoundedPage(rows[:self.per_page], number, self, more=len(rows) > self.per_page)

    def _rows(self, bottom: int, top: int) -> list:
        """The rows ``[bottom:top]``. Deep in a list (from ``DEFERRED_JOIN_AFTER``) the database first orders and
        skips the primary keys alone, then fetches the page's rows by key: a deep ``OFFSET`` over whole rows sorts
        every wide row before it (the last page of a 10,000-conversation queue sorted 7 MB on disk)."""
        qs: Any = self.object_list  # a QuerySet, or a list (the hasattr test tells)
        if bottom < DEFERRED_JOIN_AFTER or not hasattr(qs, "values_list") or qs.query.distinct or \
                qs.query.combinator:
            return list(qs[bottom:top])
        ids = list(qs.values_list("pk", flat=True)[bottom:top])
        found = {row.pk: row for row in qs.filter(pk__in=ids)}
        return [found[pk] for pk in ids if pk in found]

    def get_page(self, number):
        try:
            number = self.validate_number(number)
        except PageNotAnInteger:
            number = 1
        except EmptyPage:
            number = self.num_pages
        try:
            return self.page(number)
        except EmptyPage:  # past the end of an uncounted list: its last page
            self.count_all()
            return self.page(self.num_pages)
