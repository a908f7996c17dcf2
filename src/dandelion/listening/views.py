"""Listening's pages: queries (list, editor with inline parse errors, page with its chart), alerts, mentions.

Reads go through ``restrict()`` (404 outside the viewer's scope, 403 when seen but not allowed); writes through
``listening.services``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dandelion.core.permissions import has_perm
from dandelion.core.view_helpers import (
    call_service,
    confirm_then_act,
    get_for,
    get_visible,
    paginate,
    require,
)
from dandelion.listening import series as series_mod
from dandelion.listening import services
from dandelion.listening.choices import AlertState
from dandelion.listening.forms import QueryForm, ToInboxForm
from dandelion.listening.models import Alert, ListeningQuery, Mention, MentionMatch
from dandelion.listening.query import check

PERM_VIEW = "listening.view_listeningquery"
PERM_ADD = "listening.add_listeningquery"
PERM_CHANGE = "listening.change_listeningquery"
PERM_DELETE = "listening.delete_listeningquery"


@login_required
@require_GET
def query_list(request):
    require(request.user, PERM_VIEW)
    qs = ListeningQuery.objects.restrict(request.user, "view").select_related("unit").order_by("name", "pk")
    page = paginate(request, qs)
    open_alerts = Alert.objects.restrict(request.user, "view").filter(state=AlertState.OPEN).count()
    return render(request, "listening/query_list.html", {
        "page": page, "can_add": has_perm(request.user, PERM_ADD), "open_alerts": open_alerts})


def _save_query(request, form, query=None):
    data = dict(form.cleaned_data)
    if query is None:
        return call_service(request, services.create_query, form=form, **data)
    return call_service(request, services.update_query, query, form=form, **data)


@login_required
@require_http_methods(["GET", "POST"])
def query_create(request):
    require(request.user, PERM_ADD)
    form = QueryForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        query, ok = _save_query(request, form)
        if ok:
            messages.success(request, _("Query created: its spike detector starts with the next minute."))
            return redirect(query)
    return render(request, "listening/query_form.html", {"form": form, "query": None},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def query_edit(request, pk: int):
    query = get_for(request, ListeningQuery, pk, PERM_CHANGE)
    form = QueryForm(request.POST or None, instance=query, user=request.user)
    if request.method == "POST" and form.is_valid():
        # the form wrote its fields onto the instance: reload so the service sees (and audits) the change
        fresh = ListeningQuery.objects.get(pk=query.pk)
        _saved, ok = _save_query(request, form, fresh)
        if ok:
            messages.success(request, _("Query saved."))
            return redirect(fresh)
    return render(request, "listening/query_form.html", {"form": form, "query": query},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def query_delete(request, pk: int):
    query = get_for(request, ListeningQuery, pk, PERM_DELETE)

    def act():
        _result, ok = call_service(request, services.delete_query, query)
        if ok:
            messages.success(request, _("Query deleted."))
        return redirect("listening:query-list")

    return confirm_then_act(request, act=act, title=_("Delete the query"),
                            question=_("Delete '%(name)s', its mentions' matches, rollups and alerts?")
                            % {"name": query.name}, cancel_url=query.get_absolute_url())


@login_required
@require_POST
def query_check(request):
    """The editor's live check (HTMX): the parse error and its position, or the normalised query."""
    result = check(request.POST.get("text", "")[:4000])
    return render(request, "listening/partials/_check.html", {"result": result, "text": request.POST.get("text", "")})


@login_required
@require_GET
def query_detail(request, pk: int):
    query = get_visible(request, ListeningQuery.objects.select_related("unit"), pk)
    mentions = paginate(request, MentionMatch.objects.filter(query=query).select_related("mention")
                        .order_by("-posted_at", "-pk"), per_page=25)
    alerts = Alert.objects.filter(query=query).order_by("-started_at")[:10]
    return render(request, "listening/query_detail.html", {
        "query": query, "mentions": mentions, "alerts": alerts, "health": services.query_health(query),
        "can_change": has_perm(request.user, PERM_CHANGE, query.unit),
        "can_delete": has_perm(request.user, PERM_DELETE, query.unit),
        "can_inbox": has_perm(request.user, "inbox.change_conversation"),
        "inbox_form": ToInboxForm(user=request.user),
        "subscribed": query.subscribers.filter(pk=request.user.pk).exists(),
    })


@login_required
@require_POST
def query_subscription(request, pk: int):
    """Follow (or stop following) the query's alerts by e-mail."""
    query = get_visible(request, ListeningQuery, pk)
    follow = request.POST.get("subscribed") == "1"
    _result, ok = call_service(request, services.set_subscription, query, subscribed=follow)
    if ok:
        messages.success(request, _("You will receive this query's alerts by e-mail.") if follow
                         else _("You no longer receive this query's alerts by e-mail."))
    return redirect(query)


@login_required
@require_GET
def query_series(request, pk: int):
    query = get_visible(request, ListeningQuery, pk)
    try:
        start, end = series_mod.parse_period(request.GET.get("start"), request.GET.get("end"),
                                             days=min(max(int(request.GET.get("days") or 7), 1), 366))
        data = series_mod.series(query, start, end, bucket=request.GET.get("bucket", "hour"))
    except ValueError as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    return JsonResponse(data)


@login_required
@require_POST
def mention_to_inbox(request, pk: int, mention_pk: int):
    query = get_visible(request, ListeningQuery, pk)
    require(request.user, "inbox.change_conversation")
    match = MentionMatch.objects.filter(query=query, mention_id=mention_pk).select_related("mention").first()
    if match is None:
        raise Http404
    form = ToInboxForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _("Choose an account you may work on."))
        return redirect(query)
    conversation, ok = call_service(request, services.send_mention_to_inbox, match.mention,
                                    account=form.cleaned_data["account"])
    if ok:
        messages.success(request, _("The mention is now conversation #%(id)s in the inbox.") % {"id": conversation})
    return redirect(query)


@login_required
@require_GET
def mention_detail(request, pk: int):
    """A mention, for whoever sees its unit or one of the queries that matched it."""
    visible_queries = ListeningQuery.objects.restrict(request.user, "view")
    mention = Mention.objects.filter(pk=pk).first()
    if mention is None:
        raise Http404
    matched = list(visible_queries.filter(matches__mention=mention).order_by("name"))
    if not matched and not Mention.objects.restrict(request.user, "view").filter(pk=pk).exists():
        raise Http404
    return render(request, "listening/mention_detail.html", {"mention": mention, "queries": matched})


@login_required
@require_GET
def alert_list(request):
    require(request.user, "listening.view_alert")
    qs = Alert.objects.restrict(request.user, "view").select_related("query").order_by("-started_at", "-pk")
    state = request.GET.get("state")
    if state in AlertState.values:
        qs = qs.filter(state=state)
    return render(request, "listening/alert_list.html", {"page": paginate(request, qs), "state": state,
                                                          "states": AlertState.choices})


@login_required
@require_GET
def alert_detail(request, pk: int):
    alert = get_visible(request, Alert.objects.select_related("query__unit"), pk)
    return render(request, "listening/alert_detail.html", {
        "alert": alert, "can_ack": has_perm(request.user, "listening.change_alert", alert.query.unit)})


@login_required
@require_POST
def alert_acknowledge(request, pk: int):
    alert = get_for(request, Alert.objects.select_related("query__unit"), pk, "listening.change_alert",
                    unit=lambda a: a.query.unit)
    _result, ok = call_service(request, services.acknowledge_alert, alert)
    if ok:
        messages.success(request, _("Alert acknowledged."))
    return redirect(alert)


