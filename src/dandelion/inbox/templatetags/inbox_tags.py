"""Template helpers of the inbox: SLA countdown badges and understanding chips."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

register = template.Library()

WARN_SECONDS = 15 * 60


def _duration(seconds: float) -> str:
    seconds = int(abs(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d}"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def sla_state(due, now=None) -> tuple[str, str]:
    """``(css class, label)`` of an SLA due time: time left, or how long ago it was breached."""
    if due is None:
        return "muted", _("no SLA")
    left = (due - (now or timezone.now())).total_seconds()
    if left < 0:
        return "sla-breached", _("breached %(duration)s ago") % {"duration": _duration(left)}
    return ("sla-warn" if left < WARN_SECONDS else "sla-ok"), _("%(duration)s left") % {"duration": _duration(left)}


@register.simple_tag
def sla_badge(conversation):
    if conversation.status == "resolved" or not conversation.needs_reply:
        due = conversation.sla_due_at if conversation.status != "resolved" else None
        if due is None:
            return mark_safe('<span class="muted small">—</span>')
    css, label = sla_state(conversation.sla_due_at)
    iso = conversation.sla_due_at.isoformat() if conversation.sla_due_at else ""
    return format_html('<span class="sla {}" data-due="{}" title="{}">{}</span>', css, iso, iso, label)


@register.filter
def score_chip(value, threshold=0.5):
    """'bad' chip class when a 0..1 score passes the threshold."""
    try:
        return "bad" if float(value) >= float(threshold) else ""
    except (TypeError, ValueError):
        return ""


@register.filter
def sentiment_class(value):
    return {"negative": "bad", "positive": "ok"}.get(value or "", "")


@register.filter
def sentiment_label(value):
    """A classified sentiment as its (translated) label; an unknown value as it is."""
    from dandelion.inbox.choices import Sentiment

    return Sentiment(value).label if value in Sentiment.values else value


@register.filter
def intent_label(value):
    """A classified intent as its (translated) label; an unknown value as it is."""
    from dandelion.inbox.choices import Intent

    return Intent(value).label if value in Intent.values else value


@register.filter
def pct(value):
    if value is None:
        return "—"
    return f"{value * 100:.1f} %"


@register.filter
def human_seconds(value):
    if value is None:
        return "—"
    return _duration(value)


@register.simple_tag(takes_context=True)
def attach_linked_copies(context, messages) -> str:
    """Set ``linked_copies`` and ``answered_from`` on each inbound message of ``messages`` (one conversation's):

    * ``linked_copies``: its copies received by the organisation's other accounts (the same public post, see
      ``Message.linked``), each ``{"handle", "conversation" (its id, None when the viewer may not see it),
      "replied"}``;
    * ``answered_from``: ``{"handle", "conversation"}`` when it was answered from another account (the
      ``answered_elsewhere`` event), else None.

    At most three queries for the page (one when no message has a copy). Renders nothing."""
    from dandelion.inbox.choices import Direction, EventKind
    from dandelion.inbox.models import Conversation, ConversationEvent, Message

    inbound = [m for m in messages if m.direction == Direction.INBOUND and m.external_id]
    for m in messages:
        m.linked_copies, m.answered_from = [], None
    if not inbound:
        return ""
    first = inbound[0]
    copies = list(Message.objects.filter(network=first.network, external_id__in=[m.external_id for m in inbound])
                  .exclude(account_id=first.account_id).order_by("account__handle", "id")
                  .values("external_id", "conversation_id", "replied", "account__handle"))
    if not copies:
        return ""
    user = context["request"].user
    answers = {e.data.get("message"): e.data for e in ConversationEvent.objects.filter(
        conversation_id=first.conversation_id, kind=EventKind.ANSWERED_ELSEWHERE).order_by("id")}
    wanted = {c["conversation_id"] for c in copies} | {a.get("from_conversation") for a in answers.values()}
    visible = set(Conversation.objects.restrict(user, "view").filter(pk__in=[pk for pk in wanted if pk])
                  .values_list("pk", flat=True))
    by_external: dict[str, list[dict]] = {}
    for c in copies:
        by_external.setdefault(c["external_id"], []).append({
            "handle": c["account__handle"], "replied": c["replied"],
            "conversation": c["conversation_id"] if c["conversation_id"] in visible else None})
    for m in inbound:
        m.linked_copies = by_external.get(m.external_id, [])
        answer = answers.get(m.pk)
        if answer is not None:
            source = answer.get("from_conversation")
            m.answered_from = {"handle": answer.get("from_account_handle") or "",
                               "conversation": source if source in visible else None}
    return ""
