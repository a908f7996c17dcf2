"""What the conversation lists (the REST list, the inbox queue) read from the database."""

from __future__ import annotations

#: The related rows' columns a list shows (``ConversationSerializer``'s ``account_handle``, ``network``,
#: ``contact_name``, ``team_name``, ``assignee_username``; the same in the queue table).
LIST_RELATED = {"account": ("handle", "network"), "contact": ("name",), "team": ("name",), "assignee": ("username",)}


def for_conversation_list(qs):
    """``qs`` with each conversation's account, contact, team and assignee joined, reading of those rows only what a
    list shows: an account's credentials, connector configuration and languages, a contact's and a team's other
    columns, a user's password are neither sent nor decoded (a quarter of a 50-row page's fetch). Every column of
    the conversation itself is read but its search text (up to 200,000 characters; lists never show it). A template or serialiser that reads another related column costs a query per
    row, which the lists' query-count tests catch."""
    from dandelion.inbox.models import Conversation

    related = [f"{name}__{column}" for name, columns in LIST_RELATED.items() for column in columns]
    own = (f.name for f in Conversation._meta.concrete_fields if f.name != "search_text")
    return qs.select_related(*LIST_RELATED).only(*own, *related)
