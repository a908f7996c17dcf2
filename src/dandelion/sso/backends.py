"""Local passwords switched off: for everyone (``DANDELION_LOCAL_PASSWORDS=0``, superusers excepted as the
break-glass account), for the people linked to a provider with ``local_passwords_off``, or for the people holding a
role in a unit (or below) where the hub switched them off (``LocalPasswordPolicy``, superusers excepted)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _


class LocalPasswordGate:
    """An authentication backend placed before ``ModelBackend``: it never signs anyone in, and raises
    ``PermissionDenied`` (which stops Django trying the next backends) for a person who must use single sign-on."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return
        user = get_user_model().objects.filter(username=username).only("pk", "is_superuser").first()
        if user is None:
            return
        if not getattr(settings, "DANDELION_LOCAL_PASSWORDS", True) and not user.is_superuser:
            raise PermissionDenied(_("local passwords are switched off"))
        from dandelion.sso.models import ExternalIdentity

        if ExternalIdentity.objects.filter(user=user, provider__is_active=True,
                                           provider__local_passwords_off=True).exists():
            raise PermissionDenied(_("this person signs in through their identity provider"))
        if not user.is_superuser:
            from dandelion.sso.services import local_passwords_off_for

            if local_passwords_off_for(user) is not None:
                raise PermissionDenied(_("local passwords are switched off in this person's unit"))
        return
    # no get_user(): sessions are never this backend's (and the test client's force_login skips it)
