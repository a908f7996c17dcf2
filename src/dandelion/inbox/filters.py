"""Filters of the conversation queue (UI and API share them)."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from dandelion.core.filters import IdFilter
from dandelion.inbox.choices import ConversationStatus, Priority
from dandelion.inbox.models import Conversation, Message


def search_conversations(qs, value: str):
    """Conversations with a message whose text, or whose author's name or handle, contains ``value``, or whose
    contact's name does (case-insensitive).

    One ``IN`` over the ``UNION`` of three plain sets (conversations of messages by text, of messages by matching
    authors, of matching contacts) rather than a correlated ``EXISTS`` with an ``OR`` inside: each set is a
    ``UPPER(col) LIKE`` on one table, which PostgreSQL answers from its trigram indexes (migration ``inbox.0002``),
    and the union drives the join to the user's scope (a rare word reads a few rows, not the whole queue); other
    databases run the same queries without those indexes."""
    from dandelion.inbox.models import AuthorIdentity, Contact

    value = (value or "").strip()
    if not value:
        return qs
    by_text = Message.objects.filter(text__icontains=value).order_by().values("conversation_id")
    authors = AuthorIdentity.objects.filter(Q(name__icontains=value) | Q(handle__icontains=value)).values("pk")
    by_author = Message.objects.filter(author_identity__in=authors).order_by().values("conversation_id")
    contacts = Contact.objects.filter(name__icontains=value).values("pk")
    by_contact = Conversation.objects.filter(contact__in=contacts).order_by().values("pk")
    return qs.filter(pk__in=by_text.union(by_author, by_contact))


class ConversationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ConversationStatus.choices)
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    language = django_filters.CharFilter(field_name="language", lookup_expr="iexact")
    team = IdFilter(field_name="team_id")
    assignee = IdFilter(field_name="assignee_id")
    account = IdFilter(field_name="account_id")
    needs_reply = django_filters.BooleanFilter()
    escalated = django_filters.BooleanFilter()
    search = django_filters.CharFilter(method="filter_search", label="Search")

    class Meta:
        model = Conversation
        fields = ["status", "priority", "language", "team", "assignee", "account", "needs_reply", "escalated"]

    def filter_search(self, queryset, name, value):
        return search_conversations(queryset, value)
