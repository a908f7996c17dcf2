"""Sign-in through an identity provider (start, callback, the refusal page) and the hub's provider pages."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dandelion.core.exceptions import DandelionError
from dandelion.core.permissions import has_perm, is_hub_admin
from dandelion.orgs.services import root_unit
from dandelion.sso import oidc, services
from dandelion.sso.exceptions import SignInRefused
from dandelion.sso.forms import ClaimRuleForm
from dandelion.sso.models import ClaimRule, IdentityProvider

logger = logging.getLogger(__name__)
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _active_provider(slug: str) -> IdentityProvider:
    provider = IdentityProvider.objects.filter(slug=slug, is_active=True).select_related("bound_unit").first()
    if provider is None:
        raise Http404(_("No such identity provider."))
    return provider


def redirect_uri(request, provider: IdentityProvider) -> str:
    """The callback address to register at the provider: ``<base>/sso/<slug>/callback/``."""
    return request.build_absolute_uri(reverse("sso:callback", args=[provider.slug]))


def _refused(request, provider, error: SignInRefused, subject: str = ""):
    services.record_refusal(provider=provider, reason=error.reason, message=error.message, subject=subject)
    logger.info("sso sign-in refused (%s): %s", error.reason, error.message)
    return render(request, "sso/refused.html", {"provider": provider, "error": error}, status=error.status_code)


@require_GET
def start(request, slug: str):
    """Send the browser to the provider's sign-in page (authorisation code + PKCE)."""
    provider = _active_provider(slug)
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = ""
    try:
        return redirect(oidc.begin(request, provider, redirect_uri=redirect_uri(request, provider), next_url=next_url))
    except SignInRefused as e:
        return _refused(request, provider, e)


@require_GET
def callback(request, slug: str):
    """The provider sends the browser back with a code: exchange it, check the ID token, provision, sign in."""
    provider = _active_provider(slug)
    subject = ""
    try:
        if request.GET.get("error"):
            raise SignInRefused(_("The identity provider did not sign you in (%(error)s).")
                                % {"error": request.GET["error"][:100]}, reason="provider_error", status=400)
        flow = oidc.pop_flow(request, provider, request.GET.get("state", ""))
        tokens = oidc.exchange_code(provider, code=request.GET.get("code", ""), verifier=flow["verifier"],
                                    redirect_uri=redirect_uri(request, provider))
        claims = oidc.validate_id_token(provider, tokens.get("id_token", ""), nonce=flow["nonce"])
        subject = str(claims.get("sub", ""))
        user = services.sign_in(provider=provider, claims=claims)
    except SignInRefused as e:
        return _refused(request, provider, e, subject)
    login(request, user, backend=BACKEND)
    request.session["sso_provider"] = provider.pk
    if flow.get("next"):
        return redirect(flow["next"])
    try:
        return redirect(reverse("inbox:queue"))
    except NoReverseMatch:
        return redirect(settings.LOGIN_REDIRECT_URL)


# --- the hub's pages -----------------------------------------------------------------------------------------
def _require_manager(request) -> None:
    if not request.user.is_authenticated:
        raise PermissionDenied
    if not has_perm(request.user, services.PERM_MANAGE, root_unit()):
        raise PermissionDenied(_("Only the hub manages identity providers."))


def provider_list(request):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    _require_manager(request)
    providers = IdentityProvider.objects.restrict(request.user, "view").select_related("bound_unit")
    return render(request, "sso/provider_list.html", {"providers": providers})


def provider_detail(request, pk: int):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    provider = get_object_or_404(IdentityProvider.objects.restrict(request.user, "view"), pk=pk)
    _require_manager(request)
    form = ClaimRuleForm(request.POST or None, provider=provider)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_rule(actor=request.user, provider=provider, **form.cleaned_data)
        except DandelionError as e:
            form.add_error(e.field if e.field in form.fields else None, e.message)
        else:
            messages.success(request, _("Rule added."))
            return redirect(provider.get_absolute_url())
    rules = ClaimRule.objects.filter(provider=provider).select_related("unit", "team")
    return render(request, "sso/provider_detail.html", {
        "provider": provider, "rules": rules, "form": form, "redirect_uri": redirect_uri(request, provider),
        "scim_base": request.build_absolute_uri("/scim/v2/"), "new_token": request.session.pop("sso_new_token", None),
        "status": 400 if form.errors else 200}, status=400 if form.errors else 200)


@require_POST
def rule_delete(request, pk: int):
    rule = get_object_or_404(ClaimRule.objects.restrict(request.user, "view").select_related("provider"), pk=pk)
    _require_manager(request)
    services.delete_rule(actor=request.user, rule=rule)
    messages.success(request, _("Rule removed."))
    return redirect(rule.provider.get_absolute_url())


@require_POST
def scim_token(request, pk: int):
    provider = get_object_or_404(IdentityProvider.objects.restrict(request.user, "view"), pk=pk)
    _require_manager(request)
    request.session["sso_new_token"] = services.rotate_scim_token(actor=request.user, provider=provider)
    return redirect(provider.get_absolute_url())


def is_manager(user) -> bool:
    return is_hub_admin(user)
