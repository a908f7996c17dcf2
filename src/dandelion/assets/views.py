"""The account registry's pages. Reads go through ``restrict()``; writes through ``assets.services``.

An account the user cannot see is a 404; one they can see but not change is a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dandelion.assets import csvio, services
from dandelion.assets.choices import AccountStatus
from dandelion.assets.filters import SocialAccountFilter
from dandelion.assets.forms import (
    AccountForm,
    ArchiveForm,
    ConnectForm,
    CredentialsForm,
    ImportForm,
    TransferForm,
    can_add_anywhere,
)
from dandelion.assets.models import SocialAccount
from dandelion.core.exceptions import DandelionError, PermissionDeniedError
from dandelion.core.permissions import has_perm, is_team_scoped_only
from dandelion.core.view_helpers import form_error, get_visible, paginate, render_page_or_partial, require

PAGE_SIZE = 50


def _visible(request):
    return SocialAccount.objects.restrict(request.user, "view").select_related("owner_unit", "owner")


def _get_account(request, pk: int) -> SocialAccount:
    return get_visible(request, _visible(request), pk)


def _require(request, perm: str, account: SocialAccount) -> None:
    require(request.user, perm, account.owner_unit, message=_("You may not do this on %(account)s.") % {"account": account})


def filtered_accounts(request):
    """The list's queryset after filters; archived accounts only when the status filter asks for them."""
    filterset = SocialAccountFilter(request.GET or None, queryset=_visible(request), request=request)
    # an invalid filter (e.g. ?unit= a unit outside the viewer's scope) matches nothing rather than everything
    qs = filterset.queryset.none() if filterset.is_bound and filterset.errors else filterset.qs
    if not request.GET.get("status"):
        qs = qs.exclude(status=AccountStatus.ARCHIVED)
    return filterset, qs


@login_required
@require_GET
def account_list(request):
    if is_team_scoped_only(request.user):  # a typed address outside the role's world: a clear 403
        raise PermissionDenied(_("The account registry is not part of your role: your work is in your team's queue."))
    filterset, qs = filtered_accounts(request)
    page = paginate(request, qs)
    now = timezone.now()
    rows = [(account, account.health_badges(now)) for account in page]
    return render_page_or_partial(
        request, "assets/account_list.html", "assets/partials/_account_table.html",
        {"filter": filterset, "page": page, "rows": rows, "can_add": can_add_anywhere(request.user),
         "export_query": request.GET.urlencode()},
    )


@login_required
@require_GET
def account_detail(request, pk: int):
    account = _get_account(request, pk)
    return render(request, "assets/account_detail.html", _detail_context(request, account))


def _detail_context(request, account: SocialAccount, **extra) -> dict:
    unit, user = account.owner_unit, request.user
    context = {
        "account": account,
        "badges": account.health_badges(),
        "credentials_keys": account.credentials_keys if account.has_credentials else [],
        "can_change": has_perm(user, services.PERM_CHANGE, unit),
        "can_archive": has_perm(user, services.PERM_ARCHIVE, unit),
        "can_rotate": has_perm(user, services.PERM_ROTATE_SECRET, unit),
        "credentials_form": CredentialsForm(),
    }
    context.update(extra)
    return context


def _warn_if_cannot_reply(request, account) -> None:
    """Say it at once when the account's connector cannot send replies: agents could not answer its
    conversations."""
    from dandelion.connectors import registry

    try:
        connector = registry.connector_for(account)
    except LookupError:
        return
    if not connector.supports("reply", account.connector_config or {}):
        messages.warning(request, _("%(account)s uses the “%(connector)s” connector, which cannot send replies with "
                                    "this configuration: conversations on it can be read but not answered from "
                                    "Dandelion. Choose another connector, or complete its configuration.")
                         % {"account": account, "connector": connector.label})


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request):
    if not can_add_anywhere(request.user):
        raise PermissionDenied(_("You may not register accounts."))
    form = AccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            account = services.register_account(actor=request.user, **data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DandelionError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Registered %(account)s.") % {"account": account})
            _warn_if_cannot_reply(request, account)
            return redirect(account)
    return render(request, "assets/account_form.html", {"form": form, "account": None},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def account_edit(request, pk: int):
    account = _get_account(request, pk)
    _require(request, services.PERM_CHANGE, account)
    if account.is_archived:
        messages.error(request, _("Restore the account before editing it."))
        return redirect(account)
    form = AccountForm(request.POST or None, user=request.user, instance=account)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_account(account, actor=request.user, **form.cleaned_data)
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DandelionError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Saved %(account)s.") % {"account": account})
            _warn_if_cannot_reply(request, account)
            return redirect(account)
    return render(request, "assets/account_form.html", {"form": form, "account": account},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def account_transfer(request, pk: int):
    account = _get_account(request, pk)
    _require(request, services.PERM_CHANGE, account)
    form = TransferForm(request.POST or None, user=request.user, account=account)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        from_unit = account.owner_unit_id
        try:
            services.transfer_account(account, to_unit=data["to_unit"], new_owner=data["new_owner"],
                                      clear_owner=data["clear_owner"], actor=request.user, reason=data["reason"])
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DandelionError as exc:
            form_error(form, exc)
        else:
            if account.owner_unit_id == from_unit:
                messages.success(request, _("Owner of %(account)s changed to %(owner)s.") % {
                    "account": account, "owner": account.owner.username if account.owner else _("nobody")})
            else:
                messages.success(request, _("Transferred %(account)s to %(unit)s.") % {
                    "account": account, "unit": account.owner_unit.name})
            if SocialAccount.objects.restrict(request.user, "view").filter(pk=account.pk).exists():
                return redirect(account)
            return redirect("assets:account-list")
    return render(request, "assets/account_transfer.html", {"form": form, "account": account},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def account_archive(request, pk: int):
    """Archive (or, with ``action=restore``, restore) an account. GET shows the confirmation."""
    account = _get_account(request, pk)
    _require(request, services.PERM_ARCHIVE, account)
    form = ArchiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("action") == "restore":
                services.restore_account(account, actor=request.user)
                messages.success(request, _("Restored %(account)s.") % {"account": account})
            else:
                services.archive_account(account, actor=request.user, reason=form.cleaned_data["reason"])
                messages.success(request, _("Archived %(account)s.") % {"account": account})
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DandelionError as exc:
            messages.error(request, exc.message)
        return redirect(account)
    return render(request, "assets/account_archive.html", {"form": form, "account": account})


@login_required
@require_POST
def account_credentials(request, pk: int):
    account = _get_account(request, pk)
    _require(request, services.PERM_CHANGE, account)
    stored = len(account.credentials_keys) if account.has_credentials else 0
    form = CredentialsForm(request.POST, stored=stored)
    if form.is_valid():
        try:
            services.set_account_credentials(account, credentials=form.cleaned_data["credentials"],
                                             expires_at=form.cleaned_data["expires_at"], actor=request.user)
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DandelionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, (_("Stored credentials of %(account)s deleted.")
                                       if not form.cleaned_data["credentials"]
                                       else _("Credentials of %(account)s saved.")) % {"account": account})
            return redirect(account)
    # re-render without the submitted value: a secret is never echoed back
    clean_form = CredentialsForm(initial={"expires_at": request.POST.get("expires_at")})
    clean_form._errors = form.errors
    return render(request, "assets/account_detail.html",
                  _detail_context(request, account, credentials_form=clean_form), status=400)


@never_cache
@login_required
@require_POST
def account_rotate_secret(request, pk: int):
    """Rotate the webhook secret and show it once, in this response only (never stored in a message/session)."""
    account = _get_account(request, pk)
    _require(request, services.PERM_ROTATE_SECRET, account)
    try:
        secret = services.rotate_webhook_secret(account, actor=request.user)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    except DandelionError as exc:
        messages.error(request, exc.message)
        return redirect(account)
    context = _detail_context(request, account, new_webhook_secret=secret)
    response = render_page_or_partial(request, "assets/account_detail.html", "assets/partials/_webhook_secret.html",
                                      context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account_import(request):
    if not can_add_anywhere(request.user):
        raise PermissionDenied(_("You may not register accounts."))
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            result = services.import_accounts_csv(form.cleaned_data["file"], actor=request.user)
            if result.ok:
                messages.success(request, ngettext("Imported %(count)d account from %(filename)s.",
                                                  "Imported %(count)d accounts from %(filename)s.", result.created)
                                 % {"count": result.created, "filename": result.filename})
            status = 200 if result.ok else 400
        else:
            status = 400
    return render_page_or_partial(
        request, "assets/account_import.html", "assets/partials/_import_result.html",
        {"form": form, "result": result, "columns": csvio.COLUMNS, "required": csvio.REQUIRED_COLUMNS,
         "max_bytes": _max_bytes()},
        status=status,
    )


def _max_bytes() -> int:
    from django.conf import settings

    return settings.DANDELION_MAX_IMPORT_BYTES


@login_required
@require_GET
def account_export(request):
    """The filtered list as CSV (same columns as the import), streamed."""
    _filterset, qs = filtered_accounts(request)
    return export_response(qs)


def export_response(qs) -> StreamingHttpResponse:
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(csvio.iter_export(qs.select_related("owner_unit", "owner").iterator(2000)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="accounts-{stamp}.csv"'
    return response


# --- connecting an account through the network's OAuth consent ------------------------------------------------------

#: Session key of the connections waiting for the network's redirect (``state`` -> what was asked).
OAUTH_PENDING_KEY = "assets_oauth_pending"
#: At most this many connections wait at once in one session (older ones are dropped).
OAUTH_PENDING_MAX = 5


def _state_secret() -> str:
    from django.conf import settings

    return f"assets.oauth:{settings.SECRET_KEY}"


@login_required
@require_http_methods(["GET", "POST"])
def account_connect(request):
    """Connect an account through its network's OAuth consent (networks whose connector offers it): Dandelion's
    app is registered on the instance if needed, then the user is sent to the instance to consent."""
    from dandelion.connectors import oauth as shared_oauth

    if not can_add_anywhere(request.user):
        raise PermissionDenied(_("You may not register accounts."))
    networks = services.oauth_networks()
    form = ConnectForm(request.POST or None, user=request.user, networks=networks,
                       initial={"network": request.GET.get("network")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        redirect_uri = request.build_absolute_uri(reverse("assets:account-connect-callback"))
        try:
            app = services.start_oauth_connection(actor=request.user, owner_unit=data["owner_unit"],
                                                  network=data["network"], instance=data["instance"],
                                                  redirect_uri=redirect_uri)
            state = shared_oauth.make_state(_state_secret(), app.pk)
            url = services.oauth_authorize_url(app, state=state)
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DandelionError as exc:
            form_error(form, exc)
        else:
            shared_oauth.remember_pending(request.session, OAUTH_PENDING_KEY, state, {
                "app": app.pk, "unit": data["owner_unit"].pk, "user": request.user.pk}, keep=OAUTH_PENDING_MAX)
            return redirect(url)
    return render(request, "assets/account_connect.html",
                  {"form": form, "networks": networks, "connectable": services.connectable_networks()},
                  status=400 if form.errors else 200)


def finish_oauth_callback(request, *, pending_key: str, secret: str, back: str, complete):
    """The network's redirect back after an OAuth consent, for any page that started one (the registry's *Connect
    an account*, a person's own account for advocacy): the ``state`` must be one this session started for this
    person and still valid (CSRF on the redirect, RFC 6749 §10.12); the network's refusal is shown; then
    ``complete(app=, unit=, code=)`` exchanges the code and returns ``(account, created)``. Returns ``(account,
    None)`` after the success message (the caller redirects where it likes), or ``(None, a redirect to back)`` (a
    URL name) after the error message."""
    from dandelion.assets.models import OAuthApp
    from dandelion.connectors import oauth as shared_oauth
    from dandelion.orgs.models import OrgUnit

    asked = shared_oauth.take_pending(request.session, pending_key, secret, request.GET.get("state") or "",
                                      user_id=request.user.pk)
    app = OAuthApp.objects.filter(pk=asked["app"]).first() if asked else None
    unit = OrgUnit.objects.filter(pk=asked.get("unit")).first() if asked else None
    if asked is not None and request.GET.get("error"):
        messages.error(request, _("The network did not grant access: %(error)s") % {
            "error": (request.GET.get("error_description") or request.GET["error"])[:200]})
        return None, redirect(back)
    if app is None or unit is None:
        messages.error(request, _("This connection was not started here, or it expired: start again."))
        return None, redirect(back)
    try:
        account, created = complete(app=app, unit=unit, code=request.GET.get("code") or "")
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    except DandelionError as exc:
        messages.error(request, exc.message)
        return None, redirect(back)
    messages.success(request, (_("Connected %(account)s.") if created else _("Reconnected %(account)s."))
                     % {"account": account})
    return account, None


@never_cache
@login_required
@require_GET
def account_connect_callback(request):
    """Where the network sends the user back (see ``finish_oauth_callback``); the account is stored."""
    account, failed = finish_oauth_callback(
        request, pending_key=OAUTH_PENDING_KEY, secret=_state_secret(), back="assets:account-connect",
        complete=lambda app, unit, code: services.complete_oauth_connection(actor=request.user, owner_unit=unit,
                                                                            app=app, code=code))
    return failed or redirect(account)
