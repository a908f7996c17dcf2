"""The inbox UI: team queues, a conversation page with its actions, canned responses, metrics.

HTMX: one view, two renders (``render_page_or_partial``). Every read goes through ``restrict()``: a conversation
the user may not see is a 404, whoever asks. Every write goes through ``services``.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.validators import EMPTY_VALUES
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from dandelion.core.exceptions import DandelionError
from dandelion.core.htmx import render_page_or_partial, wants_partial
from dandelion.core.paging import BoundedPaginator, bounded_count, count_label, count_limit
from dandelion.core.permissions import get_grants, has_perm, is_team_scoped_only
from dandelion.core.view_helpers import form_error, paginate
from dandelion.inbox import connect, forms, services
from dandelion.inbox.choices import (
    ApprovalStatus,
    ConversationStatus,
    DeliveryState,
    Direction,
    EventKind,
    Priority,
)
from dandelion.inbox.exceptions import ReplyCollision, UnsentReply
from dandelion.inbox.filters import ConversationFilter
from dandelion.inbox.metrics import inbox_metrics
from dandelion.inbox.models import (
    CannedResponse,
    Conversation,
    ConversationEvent,
    InboundDelivery,
    Message,
    PendingReply,
    ReplyApprovalPolicy,
)
from dandelion.inbox.querysets import for_conversation_list
from dandelion.inbox.text import render_canned
from dandelion.orgs.choices import TeamKind

PAGE_SIZE = 25


# --- queue --------------------------------------------------------------------------------------------------------


def _my_teams(user):
    from dandelion.orgs.models import Team

    ids = {g.team_id for g in get_grants(user) if g.team_id}
    return list(Team.objects.filter(pk__in=ids, is_active=True).select_related("unit").order_by("name"))


def _team_queue(scope, team):
    """A team's queue: what is routed to it, and what it was told about. An SLA policy whose escalation names a
    team to notify puts each breached conversation in that team's queue too; a PR / reputation team's queue also
    holds every conversation escalated to PR in its scope (the helpers keep answering the customer while PR
    follows the thread)."""
    notified = ConversationEvent.objects.filter(conversation=OuterRef("pk"), kind=EventKind.SLA_BREACHED,
                                                data__notify_team=team.pk)
    q = Q(team=team) | Q(Exists(notified))
    if team.kind == TeamKind.PR:
        q |= Q(escalated=True)
    return scope.filter(q)


def _tabs(user, scope):
    """``(key, label, queryset)`` of each queue tab. Every tab opens on (and its chip counts) its open
    conversations, except Hidden, which holds the conversations put aside as spam or abuse."""
    teams = _my_teams(user)
    tabs = [("mine", _("My conversations"), scope.filter(assignee=user))]
    tabs += [(f"team-{t.pk}", t.name, _team_queue(scope, t)) for t in teams]
    if not is_team_scoped_only(user):  # an external moderator's world is its own queue
        tabs.append(("escalated", _("Escalated to PR"), scope.filter(escalated=True)))
    tabs += [("unassigned", _("Unassigned"), scope.filter(assignee__isnull=True)),
             ("all", _("All in my scope"), scope),
             (HIDDEN_TAB, _("Hidden"), scope.filter(status=ConversationStatus.HIDDEN))]
    return tabs


HIDDEN_TAB = "hidden"


def _tab_status(key: str) -> str:
    """The status a tab opens on and counts."""
    return ConversationStatus.HIDDEN if key == HIDDEN_TAB else ConversationStatus.OPEN


PREVIEW_CHARS = 140


def _count_inbound(conversations) -> None:
    """``message_count`` (inbound messages) and ``preview`` (the start of the latest customer message) on the
    conversations of one page: two queries over those rows, not a join over the whole queue before it is cut to a
    page."""
    counts = dict(Message.objects.filter(conversation__in=conversations, direction=Direction.INBOUND)
                  .values("conversation").annotate(n=Count("id")).order_by().values_list("conversation", "n"))
    latest = Message.objects.filter(conversation=OuterRef("pk"), direction=Direction.INBOUND).order_by(
        "-sent_at", "-id").values("text")[:1]
    previews = dict(Conversation.objects.filter(pk__in=[c.pk for c in conversations])
                    .annotate(preview=Subquery(latest)).values_list("pk", "preview"))
    for conversation in conversations:
        conversation.message_count = counts.get(conversation.pk, 0)
        conversation.preview = (previews.get(conversation.pk) or "")[:PREVIEW_CHARS]


@login_required
def queue(request):
    """Team queues the user can see, filtered, ordered by SLA due time (nearest first), paginated."""
    scope = Conversation.objects.restrict(request.user, "view")
    tabs = _tabs(request.user, scope)
    tab = request.GET.get("tab") or ("mine" if scope.filter(assignee=request.user).exists() else "all")
    current = next((t for t in tabs if t[0] == tab), None) or next(t for t in tabs if t[0] == "all")
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = _tab_status(current[0])
    # ordered before filtering: a search may restate the order for its plan (filters.search_conversations)
    filterset = ConversationFilter(data, queryset=current[2].order_by(
        F("sla_due_at").asc(nulls_last=True), "-last_activity_at", "id"))
    qs = for_conversation_list(filterset.qs)
    searching = bool((data.get("search") or "").strip())
    # each tab's chip counts its open conversations: on the whole page, not in the table alone (an HTMX refresh);
    # a tab's open conversations unfiltered (how a tab opens) are the page's list, counted once for both
    # the live poll (the element #queue-live, every POLL_SECONDS) refreshes the table and every tab's chip
    live = wants_partial(request) and request.htmx.trigger == LIVE_TRIGGER
    only_open, full_page = _only_status(filterset, _tab_status(current[0])), not wants_partial(request) or live
    counts = {key: bounded_count(q.filter(status=_tab_status(key)), count_limit(screen=True))
              for key, _label, q in tabs if full_page or (only_open and key == current[0])}
    counted = counts[current[0]] if only_open else None
    page = BoundedPaginator(qs, PAGE_SIZE, limit=count_limit(searching, screen=True), counted=counted).get_page(
        request.GET.get("page"))
    page.object_list = list(page.object_list)
    _count_inbound(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    can_bulk = Conversation.objects.restrict(request.user, "change").exists()  # the tick boxes and the bulk bar
    context = {"page": page, "filter": filterset, "tab": current[0], "live": live, "poll_seconds": poll_seconds(),
               "tabs": [(k, label, count_label(*counts[k])) for k, label, _q in tabs] if full_page else [],
               "query": query.urlencode(), "data": data, "now": timezone.now(), "can_bulk": can_bulk}
    if not wants_partial(request):  # what only the full page shows: the filter lists and the bulk bar
        context |= {"accounts": _visible_accounts(request.user, scope), "priorities": Priority.choices,
                    "statuses": ConversationStatus.choices, "languages": _scope_languages(request.user, scope),
                    "bulk_users": _handover_users(request.user, None) if can_bulk else [],
                    "bulk_teams": _handover_teams(request.user) if can_bulk else []}
    return render_page_or_partial(request, "inbox/queue.html", "inbox/partials/_queue_table.html", context)


def poll_seconds() -> int:
    """How often the queue page refreshes its table and tab counts (HTMX polling; docs/workspace.md gives the
    cost): ``DANDELION_INBOX_POLL_SECONDS``, 20 by default."""
    return max(1, int(getattr(settings, "DANDELION_INBOX_POLL_SECONDS", 20)))

LIVE_TRIGGER = "queue-live"


def _only_status(filterset, status: str) -> bool:
    """The filters keep the conversations of ``status`` and narrow nothing else (every other filter empty or
    invalid, which django-filter then leaves out)."""
    values = filterset.form.cleaned_data
    return values.get("status") == status and all(
        value in EMPTY_VALUES for name, value in values.items() if name != "status")


LANGUAGES_CACHED_FOR = 300  # seconds: a language new to the user's scope reaches the filter list within 5 minutes


def _scope_languages(user, scope) -> list[str]:
    """The languages of the conversations in the user's scope, for the language filter. A ``DISTINCT`` over every
    conversation of the scope (a million for a hub admin: over a second), so kept in the cache a few minutes per
    user and grants."""
    key = "inbox.languages:" + hashlib.sha256(
        repr((user.pk, sorted((g.unit_path, g.team_id, g.role) for g in get_grants(user)))).encode()).hexdigest()
    languages = cache.get(key)
    if languages is None:
        languages = list(scope.exclude(language="").order_by("language").values_list("language", flat=True)
                         .distinct())
        cache.set(key, languages, LANGUAGES_CACHED_FOR)
    return languages


def _visible_accounts(user, scope):
    from dandelion.assets.models import SocialAccount

    return SocialAccount.objects.filter(pk__in=scope.values("account_id")).order_by("handle")


#: What the page says once a message is moderated, by action (``services.MODERATION_ACTIONS``).
MODERATION_DONE = {
    "hide": gettext_lazy("Message hide: done."), "unhide": gettext_lazy("Message unhide: done."),
    "delete": gettext_lazy("Message delete: done."), "ban_author": gettext_lazy("Message ban author: done."),
    "mute_author": gettext_lazy("Message mute author: done."),
    "report_author": gettext_lazy("Message report author: done."),
}

BULK_LABELS = {
    "assign": gettext_lazy("Assign"), "take": gettext_lazy("Take (assign to me)"),
    "resolve": gettext_lazy("Resolve"), "hide": gettext_lazy("Hide (spam, abuse)"),
    "unhide": gettext_lazy("Unhide"), "move_team": gettext_lazy("Move to another team"),
    "tag": gettext_lazy("Add tags"),
}


def _bulk_ids(post) -> list[int]:
    ids = []
    for value in post.getlist("ids")[: services.BULK_LIMIT + 1]:
        if str(value).isdigit() and int(value) not in ids:
            ids.append(int(value))
    return ids


def _queue_back(value: str | None) -> str:
    """Back to the queue as it was (its query string only: never another site or page)."""
    url = reverse("inbox:queue")
    value = value or ""
    return url + value if value.startswith("?") and "//" not in value else url


@login_required
@require_POST
def queue_bulk(request):
    """Bulk actions from the queue: the conversations ticked, one action. Each conversation goes through its own
    service (permission-checked, audited; a refusal leaves the others done); resolving, hiding and moving team are
    confirmed first on a page that says how many and which. The result says what was done and what was refused."""
    user, post = request.user, request.POST
    back = _queue_back(post.get("next"))
    action = post.get("action") or ""
    if action not in services.BULK_ACTIONS:
        messages.error(request, _("Choose a bulk action."))
        return redirect(back)
    ids = _bulk_ids(post)
    if not ids:
        messages.error(request, _("Tick at least one conversation."))
        return redirect(back)
    if len(ids) > services.BULK_LIMIT:
        messages.error(request, _("At most %(limit)d conversations at once.") % {"limit": services.BULK_LIMIT})
        return redirect(back)
    visible = list(Conversation.objects.restrict(user, "view").filter(pk__in=ids)
                   .select_related("account__owner_unit", "contact", "team", "assignee").order_by("pk"))
    missing = [pk for pk in ids if pk not in {c.pk for c in visible}]
    assignee = team = None
    if action == "assign":
        assignee = _handover_users(user, None).filter(pk=post.get("assignee") or 0).first() if str(
            post.get("assignee") or "").isdigit() else None
    if action == "move_team":
        team = _handover_teams(user).filter(pk=post.get("team")).first() if str(
            post.get("team") or "").isdigit() else None
    reason = (post.get("reason") or "").strip()[: services.REASON_MAX]
    tags = list(dict.fromkeys(t.strip() for t in (post.get("tags") or "").split(",") if t.strip()))
    if services.BULK_ACTIONS[action] and not post.get("confirmed"):
        return render(request, "inbox/bulk_confirm.html", {
            "action": action, "label": BULK_LABELS[action], "conversations": visible, "missing": missing,
            "team": team, "reason": reason, "tags": tags, "tags_value": ", ".join(tags), "back": back,
            "next": post.get("next") or ""})
    try:
        result = services.bulk_conversations(visible, action=action, actor=user, assignee=assignee, team=team,
                                             reason=reason, missing=missing, tags=tags)
    except DandelionError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    label = BULK_LABELS[action]
    if result.done:
        messages.success(request, ngettext("%(label)s: %(count)d conversation done.",
                                           "%(label)s: %(count)d conversations done.", len(result.done))
                         % {"label": label, "count": len(result.done)})
    if result.refused:
        details = "; ".join(f"#{pk}: {why}" for pk, why in list(result.refused.items())[:10])
        messages.warning(request, ngettext("%(count)d refused (%(details)s).", "%(count)d refused (%(details)s).",
                                           len(result.refused))
                         % {"count": len(result.refused), "details": details})
    return redirect(back)


# --- conversation -------------------------------------------------------------------------------------------------


def _conversation(request, pk) -> Conversation:
    qs = Conversation.objects.restrict(request.user, "view").select_related(
        "account__owner_unit", "contact", "team__unit", "assignee")
    return get_object_or_404(qs, pk=pk)


def _canned_for(user, conversation):
    return CannedResponse.objects.usable_for(user, conversation).order_by("title")


def _team_users(conversation, team=None):
    from dandelion.orgs.models import Membership

    team = team or conversation.team
    User = get_user_model()
    if team is None:
        return User.objects.none()
    ids = Membership.objects.filter(team=team, is_active=True, user__is_active=True).values("user_id")
    return User.objects.filter(pk__in=ids).order_by("username")


def _assignable(conversation):
    """Who the ownership list offers: the team's members and, whoever they are, the current assignee (a PR manager
    who took a helpers' conversation is shown as its owner, not as "— nobody —")."""
    users = _team_users(conversation)
    if conversation.assignee_id:
        users = users | get_user_model().objects.filter(pk=conversation.assignee_id)
    return users.distinct().order_by("username")


def _handover_users(user, conversation):
    from dandelion.orgs.models import Membership

    User = get_user_model()
    teams = _handover_teams(user)
    ids = Membership.objects.filter(team__in=teams, is_active=True, user__is_active=True).values("user_id")
    return User.objects.filter(pk__in=ids).order_by("username")


def _handover_teams(user):
    from dandelion.orgs.models import Team

    return Team.objects.restrict(user, "view").filter(is_active=True).select_related("unit").order_by("name")


def _context(request, conversation, **extra):
    user = request.user
    msgs = list(conversation.messages.select_related("author_identity", "author_user", "canned_response"))
    from dandelion.inbox.attachments import attachments_by_message

    files = attachments_by_message(conversation.account_id,
                                   [m.external_id for m in msgs if m.direction == Direction.INBOUND])
    for m in msgs:
        m.attachment_list = files.get(m.external_id or "", [])
    events = list(conversation.events.select_related("actor").order_by("-created_at", "-id")[:100])
    last_id = max((m.pk for m in msgs), default=0)
    canned = _canned_for(user, conversation)
    unit = conversation.account.owner_unit
    can = {
        perm: has_perm(user, f"inbox.{perm}", unit, team_id=conversation.team_id)
        for perm in ("reply_conversation", "change_conversation", "assign_conversation", "moderate_conversation",
                     "add_message")
    }
    ctx = {
        "conversation": conversation,
        # the composer says at once when the account's connector cannot send, instead of a failure after typing
        "can_send_replies": connect.supports(conversation.account, "reply"),
        "author_actions": connect.author_actions(conversation.account),
        "messages_list": msgs,
        "events": events,
        "tags": list(conversation.tags.all()),
        "reply_form": extra.pop("reply_form", None) or forms.ReplyForm(
            initial={"seen_message_id": last_id}, canned_qs=canned),
        "note_form": forms.NoteForm(),
        "assign_form": forms.AssignForm(users=_assignable(conversation),
                                        initial={"assignee": conversation.assignee_id}),
        "handover_form": extra.pop("handover_form", None) or forms.HandoverForm(
            teams=_handover_teams(user), users=_handover_users(user, conversation)),
        "priority_form": forms.PriorityForm(initial={"priority": conversation.priority}),
        "canned": canned,
        "can": can,
        "priorities": Priority.choices,
        "now": timezone.now(),
        "collision": None,
        "pending_replies": _pending_replies(user, conversation),
    }
    ctx.update(extra)
    return ctx


def _pending_replies(user, conversation):
    """The replies held on this conversation that are still pending or were returned (newest first), each with
    whether ``user`` may approve it."""
    rows = list(conversation.pending_replies.exclude(status__in=(ApprovalStatus.APPROVED, ApprovalStatus.WITHDRAWN))
                .select_related("author", "reviewer").order_by("-created_at", "-id")[:10])
    for row in rows:
        row.user_can_approve = row.status == ApprovalStatus.PENDING and services.can_approve(user, row)
        row.user_can_withdraw = row.status == ApprovalStatus.PENDING and row.author_id == user.pk
    return rows


@login_required
def conversation_detail(request, pk: int):
    conversation = _conversation(request, pk)
    return render_page_or_partial(request, "inbox/conversation_detail.html", "inbox/partials/_conversation.html",
                                  _context(request, conversation))


ACTIONS = ("reply", "note", "assign", "take", "handover", "resolve", "reopen", "priority", "tag", "moderate", "hide",
           "unhide", "approve", "reject", "withdraw", "escalate")


@login_required
@require_POST
def conversation_action(request, pk: int, action: str):
    """Every action of the conversation page; HTMX gets the conversation panel back, others a redirect."""
    if action not in ACTIONS:
        raise Http404
    conversation = _conversation(request, pk)
    user = request.user
    if action == "moderate" and request.POST.get("action") == "delete" and not request.POST.get("confirmed"):
        # deleting on the network is never one click: the confirmation page says what will happen
        url = reverse("inbox:moderate-delete", args=[pk, request.POST.get("message") or 0])
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    extra: dict = {}
    status = 200
    try:
        services.check_action_allowed(conversation, action=action, actor=user)  # before validating the input
        done = _perform(request, conversation, action, extra)
    except ReplyCollision as exc:
        form = forms.ReplyForm(request.POST, canned_qs=_canned_for(user, conversation))
        form.is_valid()
        data = request.POST.copy()
        data["confirm_collision"] = "on"
        extra["reply_form"] = forms.ReplyForm(data, canned_qs=_canned_for(user, conversation))
        extra["collision"] = exc.message
        status = 409
        done = None
    except UnsentReply as exc:
        extra["unsent_reply"] = exc.message
        status = 409
        done = None
    except DandelionError as exc:
        messages.error(request, exc.message)
        status = exc.status_code
        done = None
        if action == "reply" and "reply_form" not in extra:  # refused: the agent's text stays in the box
            extra["reply_form"] = forms.ReplyForm(request.POST, canned_qs=_canned_for(user, conversation))
        if action == "tag":  # refused: the tags typed stay in the boxes
            extra["tag_input"] = {"add": request.POST.get("add", ""), "remove": request.POST.get("remove", "")}
    if done and action == "resolve":
        extra["next_conversation"] = next_conversation(user, exclude=pk)
    if done:
        messages.success(request, done)
    if status == 403 and not Conversation.objects.restrict(user, "view").filter(pk=pk).exists():
        raise Http404
    if not request.htmx:
        if status in (400, 409, 422):
            return render(request, "inbox/conversation_detail.html",
                          _context(request, _conversation(request, pk), **extra), status=status)
        if not Conversation.objects.restrict(user, "view").filter(pk=pk).exists():
            return redirect("inbox:queue")  # handed over out of the user's scope
        return redirect("inbox:conversation-detail", pk=pk)
    if not Conversation.objects.restrict(user, "view").filter(pk=pk).exists():
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("inbox:queue")
        return response
    return render(request, "inbox/partials/_conversation.html",
                  _context(request, _conversation(request, pk), **extra), status=status)


def _invalid(form) -> DandelionError:
    errors = "; ".join(f"{'' if k == '__all__' else k + ': '}{' '.join(v)}" for k, v in form.errors.items())
    return DandelionError(errors or "Invalid input.")


def _perform(request, conversation, action: str, extra: dict) -> str | None:
    user, post = request.user, request.POST
    if action == "reply":
        form = forms.ReplyForm(post, canned_qs=_canned_for(user, conversation))
        if not form.is_valid():
            extra["reply_form"] = form
            raise _invalid(form)
        result = services.reply_to_conversation(
            conversation, text=form.cleaned_data["text"], actor=user,
            canned_response=form.cleaned_data.get("canned_response"),
            confirm_collision=form.cleaned_data.get("confirm_collision") or False,
            seen_message_id=form.cleaned_data.get("seen_message_id"))
        if isinstance(result, PendingReply):
            return _("Your reply waits for approval: nothing is sent until an approver approves it.")
        return _("Reply queued for sending.")
    if action in ("approve", "reject", "withdraw"):
        pending = conversation.pending_replies.filter(pk=post.get("pending") or 0).first()
        if pending is None:
            raise DandelionError(_("No such reply awaiting approval in this conversation."))
        if action == "withdraw":
            services.withdraw_reply(pending, actor=user)
            return _("Reply withdrawn: nothing was sent.")
        if action == "approve":
            text = post.get("text")
            services.approve_reply(pending, actor=user, text=text if text is not None else None)
            return _("Reply approved and queued for sending.")
        services.reject_reply(pending, actor=user, reason=post.get("reason", ""))
        return _("Reply returned to its author.")
    if action == "note":
        form = forms.NoteForm(post)
        if not form.is_valid():
            raise _invalid(form)
        services.add_note(conversation, text=form.cleaned_data["text"], actor=user)
        return _("Note added.")
    if action == "assign":
        form = forms.AssignForm(post, users=_assignable(conversation))
        if not form.is_valid():
            raise _invalid(form)
        services.assign_conversation(conversation, assignee=form.cleaned_data["assignee"], actor=user)
        return _("Assignment saved.")
    if action == "take":
        form = forms.TakeForm(post)
        form.is_valid()
        services.take_conversation(conversation, actor=user, reason=form.cleaned_data.get("reason", ""))
        return _("You own this conversation now.")
    if action == "handover":
        form = forms.HandoverForm(post, teams=_handover_teams(user), users=_handover_users(user, conversation))
        if not form.is_valid():
            extra["handover_form"] = form
            raise _invalid(form)
        services.handover_conversation(conversation, to_user=form.cleaned_data.get("to_user"),
                                       to_team=form.cleaned_data.get("to_team"),
                                       reason=form.cleaned_data["reason"], actor=user)
        return _("Handed over.")
    if action == "resolve":
        form = forms.ResolveForm(post)
        form.is_valid()
        services.resolve_conversation(conversation, actor=user,
                                      no_reply_needed=form.cleaned_data.get("no_reply_needed", False),
                                      confirm_unsent_reply=form.cleaned_data.get("confirm_unsent_reply", False))
        return _("Resolved.")
    if action == "reopen":
        services.reopen_conversation(conversation, actor=user)
        return _("Reopened.")
    if action == "hide":
        services.hide_conversation(conversation, actor=user, reason=post.get("reason", ""))
        return _("Hidden: the conversation is in the Hidden tab, its SLA clocks stopped.")
    if action == "escalate":
        services.escalate_to_pr(conversation, actor=user, reason=post.get("reason", ""))
        return _("Escalated to PR: it is in their queue; keep answering the customer.")
    if action == "unhide":
        services.unhide_conversation(conversation, actor=user)
        return _("Back in the queue, open.")
    if action == "priority":
        form = forms.PriorityForm(post)
        if not form.is_valid():
            raise _invalid(form)
        services.set_priority(conversation, priority=form.cleaned_data["priority"], actor=user)
        return _("Priority saved.")
    if action == "tag":
        form = forms.TagForm(post)
        if not form.is_valid():
            raise _invalid(form)
        services.tag_conversation(conversation, actor=user, add=forms.TagForm.split(form.cleaned_data.get("add")),
                                  remove=forms.TagForm.split(form.cleaned_data.get("remove")))
        return _("Tags saved.")
    if action == "moderate":
        form = forms.ModerateForm(post)
        if not form.is_valid():
            raise _invalid(form)
        message = conversation.messages.filter(pk=form.cleaned_data["message"]).first()
        if message is None:
            raise DandelionError(_("No such message in this conversation."))
        services.moderate_message(message, action=form.cleaned_data["action"], actor=user,
                                  reason=form.cleaned_data.get("reason") or "")
        return MODERATION_DONE[form.cleaned_data["action"]]
    return None


def next_conversation(user, *, exclude: int | None = None) -> Conversation | None:
    """The conversation to work on next: the user's own open ones, then their teams' unassigned ones, nearest SLA
    first."""
    scope = Conversation.objects.restrict(user, "view").filter(status=ConversationStatus.OPEN).exclude(pk=exclude)
    order = (F("sla_due_at").asc(nulls_last=True), "-last_activity_at", "id")
    mine = scope.filter(assignee=user).order_by(*order).first()
    if mine is not None:
        return mine
    teams = [t.pk for t in _my_teams(user)]
    return scope.filter(assignee__isnull=True, team__in=teams).order_by(*order).first() if teams else None


@login_required
@require_http_methods(["GET", "POST"])
def moderate_delete(request, pk: int, message_id: int):
    """Deleting a customer's message on the network, confirmed: the page says what will happen and offers to hide
    it instead (what the guidelines ask for spam); only the confirmed POST deletes."""
    conversation = _conversation(request, pk)
    message = get_object_or_404(conversation.messages.filter(direction=Direction.INBOUND)
                                .select_related("author_identity"), pk=message_id)
    try:
        services.check_action_allowed(conversation, action="moderate", actor=request.user)
    except DandelionError as exc:
        raise PermissionDenied(exc.message) from exc
    if request.method == "POST" and request.POST.get("confirmed"):
        try:
            services.moderate_message(message, action="delete", actor=request.user,
                                      reason=(request.POST.get("reason") or "")[:300])
        except DandelionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Message deleted."))
        return redirect("inbox:conversation-detail", pk=pk)
    return render(request, "inbox/moderate_delete.html", {
        "conversation": conversation, "message": message,
        "on_network": connect.supports(conversation.account, "moderation") and bool(message.external_id)})


@login_required
def canned_preview(request, pk: int):
    """HTMX: the reply box filled with a canned response, placeholders resolved for this conversation."""
    conversation = _conversation(request, pk)
    text = ""
    canned_id = request.GET.get("canned_response") or request.GET.get("canned")
    if canned_id and str(canned_id).isdigit():
        canned = _canned_for(request.user, conversation).filter(pk=int(canned_id)).first()
        if canned is not None:
            text = render_canned(canned, conversation, request.user)
    return render(request, "inbox/partials/_reply_text.html", {"text": text})


# --- canned responses ---------------------------------------------------------------------------------------------


def _canned_units(user, action: str):
    """Units where ``user`` may ``action`` canned responses (a grant covers its subtree)."""
    from dandelion.orgs.models import OrgUnit

    return OrgUnit.objects.restrict(user, f"inbox.{action}_cannedresponse").filter(is_active=True).order_by("path")


@login_required
def canned_list(request):
    qs = CannedResponse.objects.restrict(request.user, "view").select_related("unit").order_by("unit__path", "title")
    search = request.GET.get("search", "").strip()
    if search:
        qs = qs.filter(Q(title__icontains=search) | Q(shortcut__icontains=search) | Q(body__icontains=search))
    page = paginate(request, qs)
    can_add = _canned_units(request.user, "add").exists()
    return render_page_or_partial(request, "inbox/canned_list.html", "inbox/partials/_canned_table.html",
                                  {"page": page, "search": search, "can_add": can_add})


@login_required
@require_http_methods(["GET", "POST"])
def canned_create(request):
    units = _canned_units(request.user, "add")
    if not units.exists():
        raise PermissionDenied
    form = forms.CannedResponseForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_canned_response(unit=form.cleaned_data["unit"], actor=request.user,
                                            **form.service_fields())
        except DandelionError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Canned response created."))
            return redirect("inbox:canned-list")
    return render(request, "inbox/canned_form.html", {"form": form, "creating": True},
                  status=400 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def canned_edit(request, pk: int):
    canned = get_object_or_404(CannedResponse.objects.restrict(request.user, "view"), pk=pk)
    if not CannedResponse.objects.restrict(request.user, "change").filter(pk=pk).exists():
        raise PermissionDenied
    units = _canned_units(request.user, "change")
    if request.method == "POST" and request.POST.get("delete"):
        try:
            services.delete_canned_response(canned, actor=request.user)
        except DandelionError as exc:
            messages.error(request, exc.message)
            return redirect("inbox:canned-edit", pk=pk)
        messages.success(request, _("Canned response deleted."))
        return redirect("inbox:canned-list")
    form = forms.CannedResponseForm(request.POST or None, instance=canned, units=units)
    if request.method == "POST" and form.is_valid():
        try:
            fields = form.service_fields()
            canned.refresh_from_db()
            services.update_canned_response(canned, actor=request.user, unit=form.cleaned_data["unit"], **fields)
        except DandelionError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Canned response saved."))
            return redirect("inbox:canned-list")
    return render(request, "inbox/canned_form.html", {"form": form, "canned": canned},
                  status=400 if request.method == "POST" else 200)


# --- reply approval -----------------------------------------------------------------------------------------------


@login_required
def approvals(request):
    """The replies waiting for the user's approval, oldest first."""
    qs = (PendingReply.objects.restrict(request.user, "view").filter(status=ApprovalStatus.PENDING)
          .select_related("conversation__account__owner_unit", "conversation__contact", "author")
          .order_by("created_at", "id"))
    rows = [row for row in qs[:200] if services.can_approve(request.user, row)]
    return render(request, "inbox/approvals.html", {"rows": rows})


def _policy_units(user):
    from dandelion.orgs.models import OrgUnit

    return OrgUnit.objects.restrict(user, "orgs.change_orgunit").filter(is_active=True).order_by("path")


@login_required
@require_http_methods(["GET", "POST"])
def approval_policy(request):
    """Unit admins choose which replies wait for approval in their unit (and its subtree)."""
    units = _policy_units(request.user)
    if not units.exists():
        raise PermissionDenied
    unit = units.filter(pk=request.POST.get("unit") or request.GET.get("unit") or 0).first() or units.first()
    policy = ReplyApprovalPolicy.objects.filter(unit=unit).first()
    initial = {"unit": unit.pk, "author_roles": policy.author_roles if policy else [],
               "tags": ", ".join(policy.tags) if policy else "",
               "approver_roles": policy.approver_roles if policy else [],
               "is_active": policy.is_active if policy else True}
    form = forms.ApprovalPolicyForm(request.POST or None, units=units, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.set_reply_approval_policy(
                    form.cleaned_data["unit"], actor=request.user, author_roles=form.cleaned_data["author_roles"],
                    tags=forms.TagForm.split(form.cleaned_data["tags"]),
                    approver_roles=form.cleaned_data["approver_roles"], is_active=form.cleaned_data["is_active"])
            except DandelionError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("Reply approval policy saved."))
                return redirect(f"{reverse('inbox:approval-policy')}?unit={form.cleaned_data['unit'].pk}")
        status = 400
    policies = ReplyApprovalPolicy.objects.restrict(request.user, "view").select_related("unit")
    return render(request, "inbox/approval_policy.html", {"form": form, "policies": policies}, status=status)


# --- inbound deliveries -------------------------------------------------------------------------------------------


def _delivery_accounts(request):
    from dandelion.assets.models import SocialAccount

    return SocialAccount.objects.restrict(request.user, "view").select_related("owner_unit").order_by("handle", "pk")


def _visible_account(accounts, value):
    """The account of id ``value`` among ``accounts`` (those the user sees); 404 for any other value."""
    try:
        return accounts.get(pk=int(value))
    except (ValueError, accounts.model.DoesNotExist):
        raise Http404(_("No such account.")) from None


def _managed_with_failed(request, accounts) -> list:
    """The accounts among ``accounts`` that have failed deliveries and whose deliveries the user may retry."""
    with_failed = InboundDelivery.objects.filter(state=DeliveryState.FAILED).values("account_id")
    return [a for a in accounts.filter(pk__in=with_failed)
            if has_perm(request.user, services.PERM_RETRY_DELIVERIES, a.owner_unit)]


def _failed_deliveries(count: int, exact: bool = True) -> str:
    """``count`` failed deliveries, in words (``count_label``'s "1,000+" when not ``exact``)."""
    return ngettext("%(count)s failed delivery", "%(count)s failed deliveries", count if exact else 2) % {
        "count": count_label(count, exact)}


@login_required
def deliveries(request):
    """The stored webhook bodies of the accounts the user can see, newest first: what waits, what failed for good
    and why; those who manage an account put its failed deliveries back in the queue from here."""
    from dandelion.inbox.jobs import MAX_ATTEMPTS

    scope = InboundDelivery.objects.restrict(request.user, "view")
    accounts = _delivery_accounts(request)
    account = None
    if request.GET.get("account"):
        account = _visible_account(accounts, request.GET["account"])
        scope = scope.filter(account=account)
    states = [s for s, _label in DeliveryState.choices]
    state = request.GET.get("state", DeliveryState.FAILED)
    if state and state not in states:
        state = DeliveryState.FAILED
    limit = count_limit(screen=True)
    counts = {s: count_label(*bounded_count(scope.filter(state=s), limit))
              for s in (DeliveryState.FAILED, DeliveryState.PENDING, DeliveryState.PROCESSING)}
    qs = (scope.filter(state=state) if state else scope).select_related("account").defer("body", "payload")
    page = BoundedPaginator(qs.order_by("-received_at", "-id"), PAGE_SIZE, limit=limit).get_page(
        request.GET.get("page"))
    page.object_list = list(page.object_list)
    # the button counts what it would retry: the failed deliveries of the accounts shown that the user manages
    managed = _managed_with_failed(request, accounts.filter(pk=account.pk) if account else accounts)
    retry_count = bounded_count(InboundDelivery.objects.filter(account__in=managed, state=DeliveryState.FAILED),
                                limit) if managed else (0, True)
    return render_page_or_partial(
        request, "inbox/deliveries.html", "inbox/partials/_deliveries_table.html",
        {"page": page, "account": account, "accounts": accounts, "state": state, "states": DeliveryState.choices,
         "counts": counts, "max_attempts": MAX_ATTEMPTS, "can_retry": retry_count[0] > 0,
         "retry_label": _failed_deliveries(*retry_count)})


@login_required
@require_POST
def deliveries_retry(request):
    """Put failed deliveries back in the queue: one account's (``account``), or those of every account with failed
    deliveries that the user manages; at most ``services.RETRY_REQUEST_LIMIT`` a request (the rest on the next)."""
    accounts = _delivery_accounts(request)
    if request.POST.get("account"):
        targets = [_visible_account(accounts, request.POST["account"])]
        if not has_perm(request.user, services.PERM_RETRY_DELIVERIES, targets[0].owner_unit):
            raise PermissionDenied(_("You may not manage %(account)s.") % {"account": targets[0]})
    else:
        targets = _managed_with_failed(request, accounts)
        if not targets:
            raise PermissionDenied(_("You manage no account with failed deliveries."))
    queued, left = 0, services.RETRY_REQUEST_LIMIT
    for target in targets:
        if left <= 0:
            break
        n = services.retry_failed_deliveries(target, actor=request.user, limit=left)
        queued, left = queued + n, left - n
    if queued:
        messages.success(request, ngettext("%(count)s failed delivery queued for processing again.",
                                           "%(count)s failed deliveries queued for processing again.", queued)
                         % {"count": f"{queued:,}"})
    else:
        messages.info(request, _("No failed delivery to retry."))
    if InboundDelivery.objects.filter(account__in=targets, state=DeliveryState.FAILED).exists():
        messages.warning(request, _("More failed deliveries remain: retry again, or queue them all at once with the "
                                    "dandelion retry-deliveries command."))
    url = reverse("inbox:deliveries")
    return redirect(f"{url}?account={targets[0].pk}" if request.POST.get("account") else url)


# --- metrics ------------------------------------------------------------------------------------------------------


@login_required
def metrics(request):
    form = forms.MetricsForm(request.GET or None)
    today = timezone.now().date()
    since, until, group_by = today - dt.timedelta(days=30), today, "team"
    if form.is_valid():
        since = form.cleaned_data.get("since") or since
        until = form.cleaned_data.get("until") or until
        group_by = form.cleaned_data.get("group_by") or group_by
    invalid = form.is_bound and not form.is_valid()
    data = inbox_metrics(user=request.user, since=since, until=until, group_by=group_by)
    if not request.GET:
        form = forms.MetricsForm(initial={"since": since, "until": until, "group_by": group_by})
    return render_page_or_partial(request, "inbox/metrics.html", "inbox/partials/_metrics_table.html",
                                  {"form": form, "data": data, "group_by": group_by, "since": since, "until": until,
                                   "team_scoped": is_team_scoped_only(request.user)},
                                  status=400 if invalid else 200)


@login_required
def attachment_download(request, pk: int, attachment_id: int):
    """Download one stored attachment of a message of the conversation (restricted like the conversation; served
    as ``application/octet-stream`` with ``nosniff``, never rendered)."""
    from django.http import FileResponse

    from dandelion.inbox.attachments import storage
    from dandelion.inbox.models import MessageAttachment

    conversation = _conversation(request, pk)
    external_ids = conversation.messages.filter(direction=Direction.INBOUND).exclude(external_id=None).values(
        "external_id")
    attachment = get_object_or_404(MessageAttachment, pk=attachment_id, account_id=conversation.account_id,
                                   external_id__in=external_ids, stored=True)
    try:
        handle = storage().open(attachment.storage_name, "rb")
    except FileNotFoundError:
        raise Http404(_("The file is no longer stored.")) from None
    response = FileResponse(handle, as_attachment=True, filename=attachment.filename,
                            content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
