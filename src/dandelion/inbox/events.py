"""The inbox's domain events (declared here, emitted by ``inbox.services``, ``inbox.pipeline`` and the SLA code).

Payloads are references and short states, built from the conversation's own columns and its (already loaded)
account only: building one costs no query, so the pipeline emits one per new conversation for free.
"""

from __future__ import annotations

from typing import Any

from dandelion.core.events import Event, register_type

SUBJECT = "inbox.conversation"

_EXAMPLE = {
    "conversation": {"id": 42, "url": "/inbox/conversations/42/", "status": "open", "priority": "normal",
                     "kind": "public", "language": "fr", "team_id": 3, "assignee_id": 7, "contact_id": 19},
    "account": {"id": 5, "network": "facebook", "handle": "@brand_fr"},
}

CREATED = register_type("conversation.created", "Conversation created", subject_type=SUBJECT,
                        description="A new conversation was opened by an inbound message.", example=_EXAMPLE)
ASSIGNED = register_type("conversation.assigned", "Conversation assigned", subject_type=SUBJECT,
                         description="The conversation's assignee changed (assignment, take, handover).",
                         example={**_EXAMPLE, "previous_assignee_id": None, "assignee_name": "fragent",
                                  "reason": "assign"})
ANSWERED = register_type("conversation.answered", "Conversation answered", subject_type=SUBJECT,
                         description="An agent sent a reply (queued for delivery to the network).",
                         example={**_EXAMPLE, "message_id": 1234, "first_response": True})
RESOLVED = register_type("conversation.resolved", "Conversation resolved", subject_type=SUBJECT,
                         description="The conversation was resolved.",
                         example={**_EXAMPLE, "previous_status": "open"})
SLA_BREACHED = register_type("conversation.sla_breached", "SLA breached", subject_type=SUBJECT,
                             description="A service-level target of the conversation was missed.",
                             example={**_EXAMPLE, "metric": "first_response", "due_at": "2026-01-05T09:30:00+00:00",
                                      "policy_id": 2, "notify_team_id": None})
_PENDING = {"pending": {"id": 12, "author_id": 7, "author_name": "fragent", "why": "role: helper_agent",
                        "notify_user_ids": [3, 9]}}
REPLY_HELD = register_type("conversation.reply_held", "Reply held for approval", subject_type=SUBJECT,
                           description="A reply waits for an approver (the unit's reply approval policy); "
                                       "notify_user_ids: the approvers.", example={**_EXAMPLE, **_PENDING})
REPLY_APPROVED = register_type("conversation.reply_approved", "Held reply approved", subject_type=SUBJECT,
                               description="An approver approved a held reply (it is sent); notify_user_ids: the "
                                           "author.", example={**_EXAMPLE, **_PENDING, "message_id": 1234})
REPLY_RETURNED = register_type("conversation.reply_returned", "Held reply returned", subject_type=SUBJECT,
                               description="An approver returned a held reply with a reason (nothing is sent); "
                                           "notify_user_ids: the author.",
                               example={**_EXAMPLE, **_PENDING, "reason": "Offer the voucher instead."})
REPLY_WITHDRAWN = register_type("conversation.reply_withdrawn", "Held reply withdrawn", subject_type=SUBJECT,
                                description="The author withdrew a reply that awaited approval (nothing is sent).",
                                example={**_EXAMPLE, **_PENDING})


def _summary(conversation) -> dict[str, Any]:
    account = conversation.account
    return {
        "conversation": {
            "id": conversation.pk, "url": conversation.get_absolute_url(), "status": conversation.status,
            "priority": conversation.priority, "kind": conversation.kind, "language": conversation.language,
            "team_id": conversation.team_id, "assignee_id": conversation.assignee_id,
            "contact_id": conversation.contact_id,
        },
        "account": {"id": account.pk, "network": account.network, "handle": account.handle},
    }


def conversation_event(name: str, conversation, *, actor=None, **data: Any) -> Event:
    """The event ``name`` about ``conversation``, in its account's unit, with ``data`` added to the summary."""
    return Event.create(name, unit=conversation.account.owner_unit_id, subject=conversation, subject_type=SUBJECT,
                        actor=actor, data={**_summary(conversation), **data})


def conversations_created(conversations) -> list[Event]:
    """One ``conversation.created`` per conversation of a batch (the pipeline's new threads)."""
    return [conversation_event(CREATED.name, c) for c in conversations]
