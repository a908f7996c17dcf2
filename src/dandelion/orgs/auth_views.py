"""Account pages outside the app's navigation: password reset by e-mailed link and accepting an invitation.

Both are Django's auth views (signed, expiring tokens; the token leaves the URL for the session before the form is
shown, so it never leaks in a Referer), styled like the login page, with the password validators of
``AUTH_PASSWORD_VALIDATORS`` and one audit row per password set through them (``orgs.services``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dandelion.orgs import services
from dandelion.orgs.exceptions import InvitationNotPending
from dandelion.orgs.forms import PasswordResetRequestForm
from dandelion.orgs.invitations import TokenState, invitation_tokens

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a link by username or e-mail; always answers "sent if it exists" (no account enumeration)."""

    form_class = PasswordResetRequestForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")
    title = gettext_lazy("Reset your password")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"
    title = gettext_lazy("Check your e-mail")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")
    title = gettext_lazy("Choose a new password")

    def form_valid(self, form):
        services.reset_password(user=self.user, password=form.cleaned_data["new_password1"])
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
    title = gettext_lazy("Password changed")


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """The invitation link: the person chooses their first password and is signed in."""

    token_generator = invitation_tokens
    template_name = "accounts/invitation_accept.html"
    success_url = reverse_lazy("home")
    title = gettext_lazy("Welcome to Dandelion")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.validlink:
            token = self.kwargs.get("token")
            if token == self.reset_url_token:
                token = self.request.session.get(INTERNAL_RESET_SESSION_TOKEN)
            state = invitation_tokens.state(self.user, token) if self.user else TokenState.INVALID
            context["expired"] = state is TokenState.EXPIRED
            context["already_used"] = self.user is not None and (
                self.user.has_usable_password() or self.user.last_login is not None)
        return context

    def form_valid(self, form):
        try:
            user = services.accept_invitation(user=self.user, password=form.cleaned_data["new_password1"])
        except InvitationNotPending as err:  # used in another tab meanwhile
            form.add_error(None, err.message)
            return self.form_invalid(form)
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        auth_login(self.request, user, MODEL_BACKEND)
        messages.success(self.request, _("Welcome, %(name)s: your password is set.") % {
            "name": user.get_full_name() or user.get_username()})
        return HttpResponseRedirect(self.get_success_url())


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out login (``AXES_LOCKOUT_CALLABLE``): a 429 page in the login's style that
    says what happened and for how long."""
    from axes.helpers import get_cool_off, get_failure_limit

    cool_off = get_cool_off(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": max(1, round(cool_off.total_seconds() / 60)) if cool_off else None,
    }
    return render(request, "accounts/locked_out.html", context, status=429)
