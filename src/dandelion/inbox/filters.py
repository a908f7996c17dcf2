"""Filters of the conversation queue (UI and API share them)."""

from __future__ import annotations

import django_filters
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.expressions import OrderBy

from dandelion.core.filters import IdFilter
from dandelion.core.paging import bounded_count
from dandelion.inbox.choices import ConversationStatus, Priority
from dandelion.inbox.models import Conversation, Message

#: Bounds of a search's probes (rows read at most per branch before the branch counts as frequent): matching
#: messages (their text is re-checked row by row), authors or contacts matching a name (their ids are then handed to
#: the database as a list; past the bound, a name's conversations are read within the user's scope instead), the
#: messages of the matching authors (read from the ``(author_identity, conversation)`` index alone), and the
#: conversation ids handed to the database as one list (each id is a parameter: a few thousand cost more to send
#: and parse than the database spends on them).
SEARCH_FREQUENT_AFTER = 3000
SEARCH_NAMES_AFTER = 1_000
SEARCH_AUTHOR_MESSAGES_AFTER = 50_000
SEARCH_IDS_AFTER = 10_000


def _collect(query, column: str, bound: int) -> list | None:
    """``column`` of at most ``bound`` rows of ``query``; None when there are more (a frequent match)."""
    found = list(query.order_by().values_list(column, flat=True)[:bound + 1])
    return None if len(found) > bound else found


def _collect_of(ids: list | None, rows_of, column: str, bound: int) -> list | None:
    """:func:`_collect` over the rows of ``ids`` (authors, contacts); None when ``ids`` itself was too many."""
    if ids is None:
        return None
    return _collect(rows_of(ids), column, bound) if ids else []


def search_conversations(qs, value: str):
    """Conversations with a message whose text, or whose author's name or handle, contains ``value``, or whose
    contact's name does (case-insensitive).

    Each branch (message text, authors, contacts) is first probed with a bounded query (on PostgreSQL from the
    trigram indexes of migration ``inbox.0002``):

    * a branch with few matches contributes its conversation ids, collected here; when every branch is small the
      list is ``qs`` filtered by primary key, so a few hundred index probes, not the user's whole scope, decide;
    * a frequent message text is checked per conversation of the user's scope, as the list is read in its order,
      by a correlated sub-select on the conversation's own messages: ``(SELECT id … WHERE conversation_id =
      outer.id AND text LIKE … LIMIT 1) IS NOT NULL``. A scalar sub-select, not ``EXISTS``: PostgreSQL turns an
      ``EXISTS`` under ``OR`` into a hash of every matching message of the organisation (hundreds of thousands of
      rows for a product name) before the first row is returned; the sub-select lets a page stop after a few
      hundred conversations, and a bounded count after a thousand;
    * a name matching many authors or contacts (a first name) is read within the user's scope, one query per
      branch; past the bounds it is checked per conversation too (a join to the contact, a per-row sub-select
      on the messages' authors), never as an ``IN (SELECT ...)`` set (see the comment below).

    Other databases run the same queries without the trigram indexes."""
    from django.db.models import OuterRef, Subquery

    from dandelion.inbox.models import AuthorIdentity, Contact

    value = (value or "").strip()
    if not value:
        return qs
    authors = AuthorIdentity.objects.filter(Q(name__icontains=value) | Q(handle__icontains=value))
    contacts = Contact.objects.filter(name__icontains=value)
    by_text = _collect(Message.objects.filter(text__icontains=value), "conversation_id", SEARCH_FREQUENT_AFTER)
    author_ids = _collect(authors, "pk", SEARCH_NAMES_AFTER)
    contact_ids = _collect(contacts, "pk", SEARCH_NAMES_AFTER)
    # A common name: its conversations within the user's scope (one query per branch: an OR of the two reads every
    # conversation), so an agent's search of "Camille Nowak" lists their scope's, not the company's; the messages
    # of a very common name's authors are too many to join (the branch is then checked per conversation, below).
    if author_ids is not None:
        by_author = _collect_of(author_ids, lambda ids: Message.objects.filter(author_identity__in=ids),
                                "conversation_id", SEARCH_AUTHOR_MESSAGES_AFTER)
    else:
        written_by = Message.objects.filter(author_identity__in=authors.values("pk")).values("conversation_id")
        few = bounded_count(written_by, SEARCH_AUTHOR_MESSAGES_AFTER)[1]
        by_author = _collect(qs.filter(pk__in=written_by), "pk", SEARCH_IDS_AFTER) if few else None
    if contact_ids is not None:
        by_contact = _collect_of(contact_ids, lambda ids: Conversation.objects.filter(contact__in=ids), "pk",
                                 SEARCH_NAMES_AFTER)
    else:
        by_contact = _collect(qs.filter(contact__in=contacts.values("pk")), "pk", SEARCH_IDS_AFTER)
    ids = set(by_text or ())
    if len(ids.union(by_author or (), by_contact or ())) <= SEARCH_IDS_AFTER:
        ids.update(by_author or (), by_contact or ())
    else:
        by_author = by_contact = None  # too many to list: checked per conversation below

    found = Q(pk__in=sorted(ids)) if ids else Q(pk__in=[])
    # Too many to list: checked per conversation as the list is read in its order (a join to the conversation's
    # contact, its messages' authors), so the page and a bounded count stop early. Never as sets (``IN (SELECT
    # ...)``): a set too big for the database's hash memory (a first name matching tens of thousands of authors)
    # is read again for every conversation: one search of "Camille" ran for minutes at 1M conversations.
    checks = {}
    if by_author is None:
        checks["_search_author"] = Message.objects.filter(conversation=OuterRef("pk")).filter(
            Q(author_identity__name__icontains=value) | Q(author_identity__handle__icontains=value))
    if by_contact is None:
        found |= Q(contact__name__icontains=value)
    if by_text is None:
        checks["_search_hit"] = Message.objects.filter(conversation=OuterRef("pk"), text__icontains=value)
    if checks:
        for name in checks:
            found |= Q(**{f"{name}__isnull": False})
        return qs.alias(**{name: Subquery(rows.order_by().values("pk")[:1]) for name, rows in checks.items()}).filter(
            found)
    return _sorted_not_walked(qs.filter(found))


def _sorted_not_walked(qs):
    """The queue order (nearest SLA first, NULLs last) with its "NULLs last" spelled as a leading ``sla_due_at IS
    NULL`` key: the same order, which no index serves. With a few hundred matches listed by id, PostgreSQL would
    otherwise walk the queue-order index from its start until a page of them turned up (tens of thousands of rows
    when the matches are old, resolved conversations), where fetching them by key and sorting them is immediate."""
    order = list(qs.query.order_by)
    first = order[0] if order else None
    if isinstance(first, OrderBy) and not first.descending and first.nulls_last and \
            getattr(first.expression, "name", None) == "sla_due_at":
        return qs.order_by(ExpressionWrapper(Q(sla_due_at__isnull=True), output_field=BooleanField()).asc(), *order)
    return qs


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
