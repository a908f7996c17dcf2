"""Conversation search: one folded text per conversation, read with one index probe.

Each conversation keeps ``search_text``: its contact's name, then, in arrival order, every message's author name and
handle and its text (inbound, outbound and notes), each part on its own line, case-folded (``str.casefold``) and
with runs of white space made one space. A search folds the user's words the same way and asks for conversations
whose text contains them: on PostgreSQL from the trigram index of migration ``inbox.0006`` (one probe, where
searching messages, authors and contacts took three), elsewhere by reading the column. Contacts' and authors'
names and messages' texts are never edited after they are stored, so the text only grows: the pipeline and the
services append to it as they write messages (:func:`extend`).

A conversation's text stops at :data:`SEARCH_TEXT_MAX` characters (a thread of thousands of messages): it is then
marked ``search_truncated`` and searched in its messages too (:func:`search_conversations`), so nothing written
becomes unfindable."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, Q, Value
from django.db.models.functions import Concat, StrIndex

#: Longest ``search_text`` kept (characters); past it a conversation is searched in its messages instead.
SEARCH_TEXT_MAX = 200_000
#: Matching conversations listed by id at most (handed to the database as one array); past it, in the whole
#: organisation and then within the user's scope and filters, a search is checked per conversation as the list is
#: read.
SEARCH_FREQUENT_AFTER = 3000
#: Estimated matches in the organisation up to which a common search is probed again within the user's scope and
#: filters (a first name: maybe a few hundred there); past it (a word in every other message) matches are dense
#: enough everywhere for the per-conversation check to fill a page at once.
SEARCH_SCOPED_AFTER = 30_000
#: Truncated conversations (past :data:`SEARCH_TEXT_MAX`) whose messages match, listed at most.
SEARCH_TRUNCATED_AFTER = 10_000
LINE = "\n"  # never in a folded part, so a search never matches across two parts


def fold(text: str | None) -> str:
    """``text`` case-folded, white space collapsed to single spaces, trimmed: what a search compares. Turkish
    dotless ı and dotted İ fold to i, as the databases' upper-casing matched them (``casefold`` keeps ı, and
    writes İ as i + a combining dot)."""
    return " ".join((text or "").casefold().replace("ı", "i").replace("i\u0307", "i").split())


def message_parts(text: str | None, author=None) -> list[str]:
    """A message's searchable parts: its author's name and handle (an inbound message's), then its text."""
    parts = [author.name, author.handle] if author is not None else []
    return [*parts, text or ""]


def added_text(current: str, parts: Iterable[str | None]) -> tuple[str, bool]:
    """What ``parts`` add to a conversation's ``current`` text (``LINE``-prefixed folded parts not already there
    as a whole line), and whether the text had to stop at :data:`SEARCH_TEXT_MAX`."""
    added: list[str] = []
    size = len(current)
    haystack = current + LINE
    for part in parts:
        line = LINE + fold(part)
        if line == LINE or line + LINE in haystack or line in added:
            continue
        if size + len(line) > SEARCH_TEXT_MAX:
            return "".join(added), True
        added.append(line)
        size += len(line)
    return "".join(added), False


def extend(conversation, parts: Iterable[str | None]) -> str:
    """Append ``parts`` to ``conversation``'s search text in memory; returns what was added ("" for nothing). A
    truncated conversation takes nothing more (its messages are searched instead)."""
    if conversation.search_truncated:
        return ""
    added, truncated = added_text(conversation.search_text or "", parts)
    conversation.search_text = (conversation.search_text or "") + added
    conversation.search_truncated = truncated
    return added


def append_saved(conversation, parts: Iterable[str | None]) -> None:
    """:func:`extend` a saved conversation and write it: the addition is appended by the database (``text ||
    added``), so a concurrent writer's addition is kept, not overwritten."""
    from dandelion.inbox.models import Conversation

    before = conversation.search_truncated
    added = extend(conversation, parts)
    fields = {}
    if added:
        fields["search_text"] = Concat(F("search_text"), Value(added))
    if conversation.search_truncated != before:
        fields["search_truncated"] = conversation.search_truncated
    if fields:
        Conversation.objects.filter(pk=conversation.pk).update(**fields)


def document(contact_name: str | None, messages: Iterable[tuple]) -> tuple[str, bool]:
    """A conversation's whole search text and truncation flag from its contact's name and its messages' ``(author
    name, author handle, text)`` in arrival order (``None`` names for messages without an author)."""
    parts: list[str | None] = [contact_name]
    for name, handle, text in messages:
        parts += [name, handle, text]
    return added_text("", parts)


def rebuild(conversation_ids: Iterable[int] | None = None, *, chunk: int = 500, progress=None,
            conversation_model=None) -> int:
    """Recompute ``search_text`` from the stored messages (all conversations, or ``conversation_ids``), ``chunk``
    conversations per statement; ``progress(done)`` after each chunk. Idempotent. Returns conversations written.
    ``conversation_model``: a migration's historical model (default: the current one)."""
    if conversation_model is None:
        from dandelion.inbox.models import Conversation as conversation_model

    qs = conversation_model.objects.order_by("pk")
    if conversation_ids is not None:
        qs = qs.filter(pk__in=list(conversation_ids))
    done, last = 0, 0
    while True:
        ids = list(qs.filter(pk__gt=last).values_list("pk", flat=True)[:chunk])
        if not ids:
            return done
        rebuild_rows(conversation_model, ids)
        done, last = done + len(ids), ids[-1]
        if progress:
            progress(done)


def rebuild_rows(conversation_model, ids: list[int]) -> None:
    """Write the search text of the conversations ``ids`` in one transaction, their rows locked first (``SELECT
    ... FOR UPDATE``): a message written meanwhile either waits and appends to the rebuilt text or is read by it,
    never lost. ``conversation_model`` may be a migration's historical model (only fields and relations are used)."""
    from django.db import transaction

    with transaction.atomic():
        _rebuild_locked(conversation_model, ids)


def _rebuild_locked(conversation_model, ids: list[int]) -> None:
    rows = {pk: (name, []) for pk, name in conversation_model.objects.select_for_update(of=("self",)).filter(
        pk__in=ids).order_by("pk").values_list("pk", "contact__name")}  # locks the conversations, not contacts
    ids = list(rows)
    message_model = conversation_model._meta.get_field("messages").related_model
    for conv_id, name, handle, text in message_model.objects.filter(conversation__in=ids).order_by(
            "conversation_id", "sent_at", "id").values_list(
            "conversation_id", "author_identity__name", "author_identity__handle", "text").iterator(chunk_size=2000):
        rows[conv_id][1].append((name, handle, text))
    objs = []
    for pk, (contact_name, messages) in rows.items():
        text, truncated = document(contact_name, messages)
        objs.append(conversation_model(pk=pk, search_text=text, search_truncated=truncated))
    conversation_model.objects.bulk_update(objs, ["search_text", "search_truncated"], batch_size=100)


def _collect(query, column: str, bound: int) -> list | None:
    """``column`` of at most ``bound`` rows of ``query``; None when there are more (a frequent match)."""
    found = list(query.order_by().values_list(column, flat=True)[:bound + 1])
    return None if len(found) > bound else found


def _truncated_match(value: str) -> Q | None:
    """What matches ``value``, as typed or with its white space collapsed, in a message's text or author: checked on
    the messages of truncated conversations (rare: thousands of messages each), whose search text no longer holds
    their later messages. None when no conversation is truncated."""
    from dandelion.inbox.models import Conversation

    if not Conversation.objects.filter(search_truncated=True).exists():  # a partial index: one probe
        return None
    match = Q()
    for term in {value.strip(), " ".join(value.split())}:
        match |= (Q(text__icontains=term) | Q(author_identity__name__icontains=term)
                  | Q(author_identity__handle__icontains=term))
    return match


def _estimated(needle: str) -> float:
    """How many conversations the database expects to contain ``needle``, from the planner's row estimates
    (PostgreSQL's column statistics: for one word, the share of sampled rows that contain it): each word's share,
    multiplied over the words of a phrase (as if independent: "camille nowak" is rarer than either name; the
    planner's own guess for a whole phrase is a constant). It only chooses a plan: a wrong one costs time, never
    results. Other databases: unknown (infinite)."""
    import math
    import re

    from django.db import connection

    from dandelion.inbox.models import Conversation

    if connection.vendor != "postgresql":
        return math.inf

    def rows(qs) -> float:
        found = re.search(r"rows=(\d+)", qs.order_by().values("pk").explain())
        return float(found.group(1)) if found else math.inf

    total = max(rows(Conversation.objects.all()), 1.0)
    share = 1.0
    for word in set(needle.split()):
        share *= min(rows(Conversation.objects.filter(search_text__contains=word)) / total, 1.0)
    return total * share


def search_conversations(qs, value: str):
    """Conversations of ``qs`` whose search text contains ``value`` (folded): the text, author name or handle of
    one of their messages, or their contact's name.

    Bounded probes decide the plan: one of the organisation's texts (from the trigram index on PostgreSQL), then,
    when that finds many and ``qs`` is narrower than everything (the user's scope, a team tab, filters), one within
    ``qs`` (a name common in the company may have a few hundred conversations in a country's scope):

    * up to :data:`SEARCH_FREQUENT_AFTER` matches: their ids, ``qs`` filtered by primary key and sorted (a few
      thousand key lookups, not the user's whole scope);
    * more (a frequent word, a first name): each conversation of ``qs`` is checked as the list is read in its order
      (``STRPOS(search_text, word) > 0``, on the row itself, no index), so a page, or a bounded count, stops as
      soon as it has its rows.

    Truncated conversations are searched in their messages too: listed when few match, else checked per row."""
    from django.db.models import OuterRef, Subquery

    from dandelion.core.querysets import AnyOf
    from dandelion.inbox.models import Conversation, Message

    needle = fold(value)
    if not needle:
        return qs
    ids = _collect(Conversation.objects.filter(search_text__contains=needle), "pk", SEARCH_FREQUENT_AFTER)
    if ids is None and qs.query.where and _estimated(needle) <= SEARCH_SCOPED_AFTER:
        # common in the organisation, not everywhere (a name): maybe few within the user's scope and filters
        ids = _collect(qs.filter(search_text__contains=needle), "pk", SEARCH_FREQUENT_AFTER)
    match = _truncated_match(value)
    extra: list | None = []
    if match is not None:  # the truncated conversations of the user's scope (a partial index) and their messages
        within = qs.filter(search_truncated=True).order_by().values("pk")
        extra = _collect(Message.objects.filter(match, conversation__in=within).values("conversation_id").distinct(),
                         "conversation_id", SEARCH_TRUNCATED_AFTER)
    if ids is not None and extra is not None:
        return sorted_not_walked(qs.filter(AnyOf(F("pk"), sorted(set(ids).union(extra)))))
    qs = qs.alias(_search_at=StrIndex(F("search_text"), Value(needle)))
    found = Q(_search_at__gt=0)
    if extra:
        found |= Q(AnyOf(F("pk"), sorted(extra)))
    elif extra is None:  # too many truncated conversations match to list: each one checked in its messages
        qs = qs.alias(_search_msg=Subquery(
            Message.objects.filter(match, conversation=OuterRef("pk")).order_by().values("pk")[:1]))
        found |= Q(search_truncated=True, _search_msg__isnull=False)
    return qs.filter(found)


def sorted_not_walked(qs):
    """The queue order (nearest SLA first, NULLs last) with its "NULLs last" spelled as a leading ``sla_due_at IS
    NULL`` key: the same order, which no index serves. With a few hundred matches listed by id, PostgreSQL would
    otherwise walk the queue-order index from its start until a page of them turned up (tens of thousands of rows
    when the matches are old, resolved conversations), where fetching them by key and sorting them is immediate."""
    from django.db.models import BooleanField, ExpressionWrapper
    from django.db.models.expressions import OrderBy

    order = list(qs.query.order_by)
    first = order[0] if order else None
    if isinstance(first, OrderBy) and not first.descending and first.nulls_last and \
            getattr(first.expression, "name", None) == "sla_due_at":
        return qs.order_by(ExpressionWrapper(Q(sla_due_at__isnull=True), output_field=BooleanField()).asc(), *order)
    return qs
