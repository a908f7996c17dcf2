"""The outgoing webhooks' pages. Only people who may manage webhooks somewhere see them (else 403); a subscription
outside their units is a 404. Reads go through ``restrict()``; writes through ``webhooks.services``."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dandelion.core.exceptions import DandelionError, PermissionDeniedError
from dandelion.core.htmx import render_page_or_partial
from dandelion.core.paging import BoundedPaginator
from dandelion.core.permissions import has_perm
from dandelion.webhooks import services
from dandelion.webhooks.forms import DeliveryFilterForm, DisableForm, SubscriptionForm
from dandelion.webhooks.models import WebhookDelivery, WebhookSubscription

PAGE_SIZE = 50


def _require_manager(request) -> None:
    """Permission before existence: who may manage webhooks nowhere gets a 403 on every page."""
    if not has_perm(request.user, services.PERM_MANAGE):
        raise PermissionDenied(_("You may not manage webhooks."))


def _subscriptions(request):
    _require_manager(request)
    return WebhookSubscription.objects.restrict(request.user, services.PERM_MANAGE).select_related("unit")


def _get(request, pk: int) -> WebhookSubscription:
    return get_object_or_404(_subscriptions(request), pk=pk)


def _form_error(form, exc: DandelionError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@login_required
@require_GET
def subscription_list(request):
    page = BoundedPaginator(_subscriptions(request), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "webhooks/subscription_list.html", {"page": page})


def _secret_page(request, sub: WebhookSubscription, secret: str, *, created: bool):
    response = render(request, "webhooks/subscription_secret.html",
                      {"subscription": sub, "secret": secret, "created": created})
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def subscription_create(request):
    _require_manager(request)
    form = SubscriptionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            sub, secret = services.create_subscription(actor=request.user, **form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DandelionError as exc:
            _form_error(form, exc)
        else:
            return _secret_page(request, sub, secret, created=True)
    return render(request, "webhooks/subscription_form.html", {"form": form, "subscription": None},
                  status=400 if form.errors else 200)


@login_required
@require_GET
def subscription_detail(request, pk: int):
    sub = _get(request, pk)
    recent = list(sub.deliveries.order_by("-created_at", "-id")[:10])
    return render(request, "webhooks/subscription_detail.html",
                  {"subscription": sub, "recent": recent, "disable_form": DisableForm()})


@login_required
@require_http_methods(["GET", "POST"])
def subscription_edit(request, pk: int):
    sub = _get(request, pk)
    form = SubscriptionForm(request.POST or None, user=request.user, subscription=sub)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_subscription(sub, actor=request.user, **form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DandelionError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(sub)
    return render(request, "webhooks/subscription_form.html", {"form": form, "subscription": sub},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def subscription_delete(request, pk: int):
    """GET: the confirmation page; POST: delete (with its delivery log)."""
    sub = _get(request, pk)
    if request.method == "POST":
        name = sub.name
        services.delete_subscription(sub, actor=request.user)
        messages.success(request, _("Deleted the webhook %(name)s.") % {"name": name})
        return redirect("webhooks:subscription-list")
    return render(request, "webhooks/subscription_delete.html",
                  {"subscription": sub, "deliveries": sub.deliveries.count()})


def _act(request, pk: int, action, success: str):
    sub = _get(request, pk)
    try:
        action(sub)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    except DandelionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect(sub)


@login_required
@require_POST
def subscription_enable(request, pk: int):
    return _act(request, pk, lambda s: services.enable_subscription(s, actor=request.user),
                _("Webhook re-enabled: new events are sent again."))


@login_required
@require_POST
def subscription_disable(request, pk: int):
    form = DisableForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(request, pk, lambda s: services.disable_subscription(s, actor=request.user, reason=reason),
                _("Webhook disabled."))


@login_required
@require_POST
def subscription_test(request, pk: int):
    return _act(request, pk, lambda s: services.send_test_event(s, actor=request.user),
                _("Test event queued: its outcome appears in the delivery log in a moment."))


@never_cache
@login_required
@require_POST
def subscription_rotate_secret(request, pk: int):
    sub = _get(request, pk)
    secret = services.rotate_secret(sub, actor=request.user)
    return _secret_page(request, sub, secret, created=False)


@login_required
@require_GET
def delivery_list(request, pk: int):
    sub = _get(request, pk)
    form = DeliveryFilterForm(request.GET or None)
    qs = sub.deliveries.order_by("-created_at", "-id").defer("payload", "response_body")
    if form.is_valid():
        if form.cleaned_data.get("status"):
            qs = qs.filter(status=form.cleaned_data["status"])
        if form.cleaned_data.get("event_type"):
            qs = qs.filter(event_type=form.cleaned_data["event_type"])
    page = BoundedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page_or_partial(request, "webhooks/delivery_list.html", "webhooks/partials/_delivery_table.html",
                                  {"subscription": sub, "page": page, "filter_form": form})


def _get_delivery(request, pk: int) -> WebhookDelivery:
    _require_manager(request)
    qs = WebhookDelivery.objects.restrict(request.user, services.PERM_MANAGE).select_related("subscription__unit")
    return get_object_or_404(qs, pk=pk)


@login_required
@require_GET
def delivery_detail(request, pk: int):
    row = _get_delivery(request, pk)
    return render(request, "webhooks/delivery_detail.html",
                  {"delivery": row, "subscription": row.subscription,
                   "body": json.dumps(row.payload, indent=2, sort_keys=True, ensure_ascii=False)})


@login_required
@require_POST
def delivery_redeliver(request, pk: int):
    row = _get_delivery(request, pk)
    try:
        new = services.redeliver(row, actor=request.user)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    except DandelionError as exc:
        messages.error(request, exc.message)
        return redirect(row)
    messages.success(request, _("Queued again as a new delivery."))
    return redirect(new)
