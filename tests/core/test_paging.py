"""Bounded counts: lists are counted up to a limit; past it the count is a lower bound and pages still work."""

from __future__ import annotations

import functools
import operator

import pytest
from django.contrib.auth import get_user_model

from dandelion.core.paging import BoundedPaginator, bounded_count, count_label


@pytest.fixture
def users(db):
    User = get_user_model()
    User.objects.bulk_create([User(username=f"u{i:02d}") for i in range(23)])
    return User.objects.filter(username__startswith="u").order_by("username")


def test_bounded_count_is_exact_up_to_the_limit_then_a_lower_bound(users):
    assert bounded_count(users, 23) == (23, True)
    assert bounded_count(users, 100) == (23, True)
    assert bounded_count(users, 10) == (10, False)
    assert bounded_count(list(users), 5) == (5, False)
    assert count_label(10, False) == "10+" and count_label(9581, True) == "9,581"


def test_an_uncounted_list_still_pages_to_its_end(users, django_assert_max_num_queries):
    names = [u.username for u in users]
    paginator = BoundedPaginator(users, 5, limit=10)
    assert paginator.count == 10 and paginator.count_exact is False and paginator.count_display == "10+"
    page3 = paginator.page(3)  # past what was counted
    assert [u.username for u in page3] == names[10:15] and page3.has_next() and page3.next_page_number() == 4
    page5 = paginator.page(5)
    assert [u.username for u in page5] == names[20:23] and not page5.has_next() and page5.has_previous()
    with pytest.raises(Exception, match="no results"):
        paginator.page(6)
    # past the end, get_page falls back to the real last page, counting it once
    fallback = BoundedPaginator(users, 5, limit=10).get_page(9)
    assert fallback.number == 5 and fallback.paginator.count == 23 and fallback.paginator.count_exact
    # one page costs one bounded count and one slice, however long the list
    with django_assert_max_num_queries(2):
        list(BoundedPaginator(users, 5, limit=10).get_page(2))


def test_a_list_under_the_limit_behaves_as_before(users):
    paginator = BoundedPaginator(users, 10, limit=100)
    page = paginator.get_page("last")  # not a number: the first page, as Django does
    assert page.number == 1 and paginator.count == 23 and paginator.num_pages == 3 and paginator.count_exact
    assert paginator.count_display == "23"
    assert not paginator.get_page(3).has_next()


def test_deep_pages_fetch_their_rows_by_key_in_the_same_order(users, monkeypatch, django_assert_num_queries):
    from dandelion.core import paging

    names = [u.username for u in users]
    monkeypatch.setattr(paging, "DEFERRED_JOIN_AFTER", 5)
    ordered = users.order_by("-username")
    for limit in (100, 10):  # counted exactly, and past the bound
        paginator = BoundedPaginator(ordered, 4, limit=limit)
        pages = [[u.username for u in paginator.page(n)] for n in range(1, 7)]
        assert functools.reduce(operator.iadd, pages, []) == names[::-1]
    with django_assert_num_queries(3):  # count, the page's keys, its rows
        assert [u.username for u in BoundedPaginator(ordered, 4, limit=100).page(3)] == names[::-1][8:12]
