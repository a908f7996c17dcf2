"""Invitation links: a signed, expiring token that lets an invited person set their first password.

The token is Django's password-reset token with its own salt and lifetime (``DANDELION_INVITATION_DAYS``). It hashes
the user's password field and last login, so it is void once the person has set a password, and void when the
invitation is resent (resending draws a new unusable password). Nothing is stored: no table, no migration.
"""

from __future__ import annotations

import logging
from enum import Enum

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class TokenState(str, Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Password-reset tokens with another salt (a reset link is no invitation and vice versa) and a lifetime in
    days rather than ``PASSWORD_RESET_TIMEOUT``."""

    key_salt = "dandelion.orgs.invitations.InvitationTokenGenerator"

    @property
    def timeout_seconds(self) -> int:
        return int(settings.DANDELION_INVITATION_DAYS) * 24 * 3600

    def _make_hash_value(self, user, timestamp):
        # An invitation is for a person who has never signed in and has no password: any change voids it.
        return f"{super()._make_hash_value(user, timestamp)}{int(user.is_active)}"

    def state(self, user, token: str | None) -> TokenState:
        """Whether ``token`` is a valid invitation for ``user`` now, one that has expired, or not one at all."""
        if not (user and token):
            return TokenState.INVALID
        try:
            ts_b36, _hash = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return TokenState.INVALID
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return TokenState.INVALID
        if user.has_usable_password() or user.last_login is not None or not user.is_active:
            return TokenState.INVALID
        if self._num_seconds(self._now()) - ts > self.timeout_seconds:
            return TokenState.EXPIRED
        return TokenState.VALID

    def check_token(self, user, token):
        return self.state(user, token) is TokenState.VALID


invitation_tokens = InvitationTokenGenerator()


def invitation_path(user) -> str:
    """The path of ``user``'s invitation link (a fresh token each call)."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("invitation-accept", kwargs={"uidb64": uidb64, "token": invitation_tokens.make_token(user)})


def send_invitation_email(*, user, inviter, unit_name: str, role_label: str) -> bool:
    """E-mail ``user`` their invitation link. Returns whether the message was handed to the mail server; a failure
    is logged (the invitation stays pending and can be resent), never raised into the caller's request."""
    if not user.email:
        logger.warning("invitation for %s not sent: no e-mail address", user.get_username())
        return False
    context = {
        "user": user,
        "inviter_name": (inviter.get_full_name() or inviter.get_username()) if inviter is not None else "",
        "unit_name": unit_name,
        "role_label": role_label,
        "link": settings.DANDELION_BASE_URL + invitation_path(user),
        "days": settings.DANDELION_INVITATION_DAYS,
        "base_url": settings.DANDELION_BASE_URL,
    }
    subject = _("You are invited to Dandelion")
    body = render_to_string("accounts/invitation_email.txt", context)
    message = EmailMultiAlternatives(subject=settings.EMAIL_SUBJECT_PREFIX + subject, body=body,
                                     from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email])
    try:
        message.send()
    except Exception:  # SMTP refusal, DNS, timeout...: the admin sees "not sent" and can resend
        logger.exception("invitation e-mail to %s failed", user.email)
        return False
    logger.info("invitation e-mailed to %s", user.email)
    return True
