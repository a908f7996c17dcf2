"""Filters of the conversation queue (UI and API share them)."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q

from dandelion.core.filters import IdFilter
from dandelion.inbox.choices import ConversationStatus, Priority
from dandelion.inbox.models import Conversation, Message


#: Matching messages past which a word counts as frequent and the user's scope, not the matches, drives the search.
SEARCH_FREQUENT_AFTER = 3000


def search_conversations(qs, value: str):
    """Conversations with a message whose text, or whose author's name or handle, contains ``value``, or whose
    contact's name does (case-insensitive).

    Two plans for one meaning, chosen by a bounded probe of the text matches (at most
    ``SEARCH_FREQUENT_AFTER + 1`` rows read):

    * a rare word: one ``IN`` over the ``UNION`` of three plain sets (conversations of messages by text, of messages
      by matching authors, of matching contacts). Each set is a ``UPPER(col) LIKE`` on one table, which PostgreSQL
      answers from its trigram indexes (migration ``inbox.0002``), and the few matches drive the join to the scope;
    * a frequent word: the text is matched per conversation of the user's scope (``EXISTS`` on its messages, by
      index), so the database does not first collect every matching message of the organisation; authors and
      contacts, few as a rule, stay a set.

    Other databases run the same queries without the trigram indexes."""
    from dandelion.inbox.models import AuthorIdentity, Contact

    value = (value or "").strip()
    if not value:
        return qs
    by_text = Message.objects.filter(text__icontains=value).order_by()
    authors = AuthorIdentity.objects.filter(Q(name__icontains=value) | Q(handle__icontains=value)).values("pk")
    by_author = Message.objects.filter(author_identity__in=authors).order_by().values("conversation_id")
    contacts = Contact.objects.filter(name__icontains=value).values("pk")
    by_contact = Conversation.objects.filter(contact__in=contacts).order_by().values("pk")
    if by_text.values("pk")[:SEARCH_FREQUENT_AFTER + 1].count() > SEARCH_FREQUENT_AFTER:
        in_text = Exists(Message.objects.filter(conversation=OuterRef("pk"), text__icontains=value))
        return qs.filter(in_text | Q(pk__in=by_author.union(by_contact)))
    return qs.filter(pk__in=by_text.values("conversation_id").union(by_author, by_contact))


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
