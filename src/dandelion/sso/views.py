"""Sign-in through an identity provider (start, callback, the refusal page) and the hub's provider pages."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dandelion.core.exceptions import DandelionError
from dandelion.core.htmx import render_page_or_partial, wants_partial
from dandelion.core.permissions import has_perm, is_hub_admin
from dandelion.orgs.services import root_unit
from dandelion.sso import oidc, services
from dandelion.sso.choices import Protocol
from dandelion.sso.exceptions import SignInRefused
from dandelion.sso.forms import ClaimRuleEditForm, ClaimRuleForm, LocalPasswordsForm, ProviderForm
from dandelion.sso.models import ClaimRule, IdentityProvider, LocalPasswordPolicy

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
        if provider.protocol == Protocol.SAML:
            from dandelion.sso import saml  # pysaml2 loads only when a SAML provider is used

            location, token = saml.begin(request, provider, next_url=next_url)
            response = redirect(location)
            saml.set_browser_cookie(response, request, token)
            return response
        return redirect(oidc.begin(request, provider, redirect_uri=redirect_uri(request, provider), next_url=next_url))
    except SignInRefused as e:
        return _refused(request, provider, e)


def _signed_in(request, provider: IdentityProvider, user, next_url: str):
    login(request, user, backend=BACKEND)
    request.session["sso_provider"] = provider.pk
    if next_url:
        return redirect(next_url)
    try:
        return redirect(reverse("inbox:queue"))
    except NoReverseMatch:
        return redirect(settings.LOGIN_REDIRECT_URL)


def _saml_provider(slug: str) -> IdentityProvider:
    provider = _active_provider(slug)
    if provider.protocol != Protocol.SAML:
        raise Http404(_("Not a SAML provider."))
    return provider


@require_GET
def saml_metadata(request, slug: str):
    """Dandelion's SAML service provider metadata for this provider (its entity id is this address)."""
    provider = _saml_provider(slug)
    from dandelion.sso import saml

    try:
        xml = saml.sp_metadata(request, provider)
    except SignInRefused as e:
        return _refused(request, provider, e)
    return HttpResponse(xml, content_type="application/samlmetadata+xml; charset=utf-8")


@csrf_exempt  # the identity provider posts the response (its signature and InResponseTo are the checks)
@require_POST
def saml_acs(request, slug: str):
    """The assertion consumer service: check the SAML response, provision, sign in."""
    provider = _saml_provider(slug)
    from dandelion.sso import saml

    subject = ""
    try:
        claims, next_url = saml.complete(request, provider)
        subject = str(claims.get("sub", ""))
        user = services.sign_in(provider=provider, claims=claims)
    except SignInRefused as e:
        return _refused(request, provider, e, subject)
    if next_url and not url_has_allowed_host_and_scheme(next_url, {request.get_host()},
                                                        require_https=request.is_secure()):
        next_url = ""
    return _signed_in(request, provider, user, next_url)


@require_GET
def callback(request, slug: str):
    """The provider sends the browser back with a code: exchange it, check the ID token, provision, sign in."""
    provider = _active_provider(slug)
    if provider.protocol != Protocol.OIDC:
        raise Http404(_("Not an OpenID Connect provider."))
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
    return _signed_in(request, provider, user, flow.get("next", ""))


# --- the hub's pages -----------------------------------------------------------------------------------------
# Only the hub manages providers, rules and the per-unit password switch: permission before existence (anyone
# else gets a 403 on every page, whatever the id); reads through ``restrict()``; writes through ``sso.services``.
def _require_manager(request) -> None:
    if not has_perm(request.user, services.PERM_MANAGE, root_unit()):
        raise PermissionDenied(_("Only the hub manages identity providers."))


def _get_provider(request, pk: int) -> IdentityProvider:
    _require_manager(request)
    return get_object_or_404(IdentityProvider.objects.restrict(request.user, "view").select_related("bound_unit"),
                             pk=pk)


def _get_rule(request, pk: int) -> ClaimRule:
    _require_manager(request)
    return get_object_or_404(ClaimRule.objects.restrict(request.user, "view").select_related(
        "provider__bound_unit", "unit", "team"), pk=pk)


def _form_error(form, e: DandelionError) -> None:
    form.add_error(e.field if e.field in form.fields else None, e.message)


def _cleaned(form, *, drop=()) -> dict:
    return {k: v for k, v in form.cleaned_data.items() if k not in drop}


@login_required
@require_GET
def provider_list(request):
    _require_manager(request)
    providers = (IdentityProvider.objects.restrict(request.user, "view").select_related("bound_unit")
                 .annotate(rule_count=Count("rules", distinct=True), people=Count("identities", distinct=True)))
    policies = LocalPasswordPolicy.objects.select_related("unit")
    return render(request, "sso/provider_list.html", {
        "providers": providers, "policies": policies, "password_form": LocalPasswordsForm(),
        "local_passwords_everywhere": getattr(settings, "DANDELION_LOCAL_PASSWORDS", True)})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def provider_create(request):
    _require_manager(request)
    form = ProviderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            provider = services.create_provider(actor=request.user, **form.cleaned_data)
        except DandelionError as e:
            _form_error(form, e)
        else:
            messages.success(request, _("Identity provider added: register its redirect URI at the provider, then "
                                        "add the rules giving its people their roles."))
            return redirect(provider)
    return render(request, "sso/provider_form.html", {"form": form, "provider": None},
                  status=400 if form.errors else 200)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def provider_edit(request, pk: int):
    provider = _get_provider(request, pk)
    initial = {name: getattr(provider, name) for name in services.PROVIDER_FIELDS}
    form = ProviderForm(request.POST or None, provider=provider, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_provider(actor=request.user, provider=provider, **form.cleaned_data)
        except DandelionError as e:
            _form_error(form, e)
        else:
            messages.success(request, _("Saved."))
            return redirect(provider)
    return render(request, "sso/provider_form.html", {"form": form, "provider": provider},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def provider_toggle(request, pk: int):
    """Disable (no button, every sign-in refused) or enable a provider again."""
    provider = _get_provider(request, pk)
    active = request.POST.get("active") == "1"
    services.update_provider(actor=request.user, provider=provider, is_active=active)
    messages.success(request, _("Provider enabled.") if active else _("Provider disabled: nobody signs in "
                                                                       "through it until it is enabled again."))
    return redirect(provider)


@login_required
@require_http_methods(["GET", "POST"])
def provider_delete(request, pk: int):
    """GET: the confirmation page (what goes with it); POST: delete."""
    provider = _get_provider(request, pk)
    if request.method == "POST":
        name = provider.name
        services.delete_provider(actor=request.user, provider=provider)
        messages.success(request, _("Removed the identity provider %(name)s.") % {"name": name})
        return redirect("sso:provider-list")
    return render(request, "sso/provider_delete.html", {
        "provider": provider, "rules": provider.rules.count(), "people": provider.identities.count(),
        "groups": provider.scim_groups.count()})


def _rules_context(request, provider: IdentityProvider, form=None) -> dict:
    return {"provider": provider, "form": form or ClaimRuleForm(provider=provider),
            "rules": ClaimRule.objects.filter(provider=provider).select_related("unit", "team")}


@login_required
@require_http_methods(["GET", "POST"])
def provider_detail(request, pk: int):
    """The provider's settings, SCIM token and rules; POST adds a rule (HTMX: only the rules block comes back)."""
    provider = _get_provider(request, pk)
    form = ClaimRuleForm(request.POST or None, provider=provider)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_rule(actor=request.user, provider=provider, **form.cleaned_data)
        except DandelionError as e:
            _form_error(form, e)
        else:
            if wants_partial(request):
                return render(request, "sso/partials/_rules.html", {
                    **_rules_context(request, provider), "notice": _("Rule added.")})
            messages.success(request, _("Rule added."))
            return redirect(provider.get_absolute_url())
    status = 400 if form.errors else 200
    context = {**_rules_context(request, provider, form), "redirect_uri": redirect_uri(request, provider),
               "saml_metadata_url": request.build_absolute_uri(reverse("sso:saml-metadata", args=[provider.slug])),
               "saml_acs_url": request.build_absolute_uri(reverse("sso:saml-acs", args=[provider.slug])),
               "scim_base": request.build_absolute_uri("/scim/v2/"),
               "new_token": request.session.pop("sso_new_token", None)}
    response = render_page_or_partial(request, "sso/provider_detail.html", "sso/partials/_rules.html", context,
                                      status=status)
    if context["new_token"]:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, pk: int):
    rule = _get_rule(request, pk)
    initial = {"claim": rule.claim, "value": rule.value, "unit": rule.unit, "team": rule.team, "role": rule.role,
               "is_active": rule.is_active}
    form = ClaimRuleEditForm(request.POST or None, provider=rule.provider, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_rule(actor=request.user, rule=rule, **form.cleaned_data)
        except DandelionError as e:
            _form_error(form, e)
        else:
            messages.success(request, _("Rule saved."))
            return redirect(rule.provider.get_absolute_url())
    return render(request, "sso/rule_form.html", {"form": form, "rule": rule, "provider": rule.provider},
                  status=400 if form.errors else 200)


def _after_rule_change(request, provider: IdentityProvider, notice: str):
    if wants_partial(request):
        return render(request, "sso/partials/_rules.html", {**_rules_context(request, provider), "notice": notice})
    messages.success(request, notice)
    return redirect(provider.get_absolute_url())


@login_required
@require_POST
def rule_toggle(request, pk: int):
    rule = _get_rule(request, pk)
    services.update_rule(actor=request.user, rule=rule, is_active=not rule.is_active)
    return _after_rule_change(request, rule.provider, _("Rule turned on.") if rule.is_active
                              else _("Rule turned off: it grants nothing at sign-in."))


@login_required
@require_POST
def rule_delete(request, pk: int):
    rule = _get_rule(request, pk)
    provider = rule.provider
    services.delete_rule(actor=request.user, rule=rule)
    return _after_rule_change(request, provider, _("Rule removed."))


@never_cache
@login_required
@require_POST
def scim_token(request, pk: int):
    provider = _get_provider(request, pk)
    request.session["sso_new_token"] = services.rotate_scim_token(actor=request.user, provider=provider)
    return redirect(provider.get_absolute_url())


@login_required
@require_POST
def local_passwords(request):
    """Switch local passwords off (or on again) for a unit's subtree."""
    _require_manager(request)
    form = LocalPasswordsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Pick a unit."))
        return redirect("sso:provider-list")
    unit, allowed = form.cleaned_data["unit"], form.cleaned_data["allowed"]
    back = request.POST.get("next", "")
    if not (back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                                      require_https=request.is_secure())):
        back = reverse("sso:provider-list")
    if not allowed and request.POST.get("confirm") != "1":
        messages.error(request, _("Tick the box to confirm: the people of %(unit)s will have to sign in through "
                                  "their identity provider.") % {"unit": unit.name})
        return redirect(back)
    if services.set_local_passwords(actor=request.user, unit=unit, allowed=allowed):
        messages.success(request, (_("Local passwords allowed again in %(unit)s.") if allowed else
                                   _("Local passwords switched off in %(unit)s and its sub-units: its people sign "
                                     "in through their identity provider.")) % {"unit": unit.name})
    return redirect(back)


def unit_page(user, unit) -> dict:
    """A unit's page, for the hub: whether its people may use local passwords (switched off here, or by a unit
    above) and the identity providers that may populate it, with the switch."""
    if not is_manager(user):
        return {}
    policies = {p.unit_id: p for p in LocalPasswordPolicy.objects.select_related("unit")
                if unit.path.startswith(p.unit.path)}
    off_here = unit.pk in policies
    off_above = next((p.unit for p in sorted(policies.values(), key=lambda p: p.unit.depth)
                      if p.unit_id != unit.pk), None)
    providers = [p for p in IdentityProvider.objects.select_related("bound_unit") if p.covers(unit)]
    return {"unit_panels": ["sso/partials/_unit_sign_in.html"],
            "sso_unit": {"off_here": off_here, "off_above": off_above, "providers": providers}}


def is_manager(user) -> bool:
    return is_hub_admin(user)
