"""Filters of the conversation queue (UI and API share them)."""

from __future__ import annotations

import django_filters

from dandelion.core.filters import IdFilter
from dandelion.inbox.choices import ConversationStatus, Priority
from dandelion.inbox.models import Conversation
from dandelion.inbox.search import search_conversations


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
