"""Invited guests' logins: a speaker or an outside attendee gets an account limited to one gathering's page, its
.ics and its materials, until a little after the gathering ends.

* :func:`invite_guest` (organisers: ``community.change_gathering`` on the gathering's unit) makes the login (a user
  with an unusable password, flagged by a :class:`GuestAccount`), grants it the gathering (:class:`GuestGrant`), adds
  a guest :class:`Speaker` for a speaker, and e-mails a signed set-password link in the guest's language.
* :func:`set_guest_password` follows the link (single use: the token carries a digest of the password hash).
* The session of a guest carries :data:`SESSION_KEY` (set at login by :func:`mark_session`), so
  :class:`~dandelion.community.middleware.GuestAccessMiddleware` costs nothing to members' requests; for guests it
  lets through only :func:`allowed`'s URLs and answers 403 with a clear page elsewhere (audited).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from dandelion.community.exceptions import InvalidCommunityData
from dandelion.community.models import Gathering, GuestAccount, GuestGrant, Material, Speaker
from dandelion.core import audit
from dandelion.core.permissions import require_perm

SESSION_KEY = "community_guest"
TOKEN_SALT = "dandelion.community.guest-login"
TOKEN_MAX_AGE = 14 * 24 * 3600


def grace() -> dt.timedelta:
    """How long after the gathering's end the guest may still open its page (to fetch the slides)."""
    return dt.timedelta(days=getattr(settings, "DANDELION_COMMUNITY_GUEST_GRACE_DAYS", 7))


def _pw_digest(user) -> str:
    return salted_hmac(TOKEN_SALT, f"{user.pk}:{user.password}").hexdigest()[:20]


def login_token(user) -> str:
    return signing.dumps({"u": user.pk, "p": _pw_digest(user)}, salt=TOKEN_SALT, compress=True)


def _username_for(email: str) -> str:
    User = get_user_model()
    base = ("guest-" + email.split("@")[0])[:130]
    name, n = base, 1
    while User.objects.filter(username=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


@transaction.atomic
def invite_guest(
    gathering: Gathering,
    *,
    actor,
    email: str,
    name: str,
    affiliation: str = "",
    role: str = GuestGrant.Role.SPEAKER,
    language: str = "",
    bio: str = "",
) -> GuestGrant:
    """Invite ``email`` to ``gathering`` as a speaker or an outside attendee. A member's address is refused (members
    log in as themselves); a guest already invited elsewhere gets one more grant and a new e-mail."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    require_perm(actor, "community.change_gathering", gathering.unit)
    if role not in GuestGrant.Role.values:
        raise InvalidCommunityData(_("Choose speaker or outside attendee."), field="role")
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidCommunityData(_("Enter a valid e-mail address."), field="email") from exc
    name = (name or "").strip()[:150]
    if not name:
        raise InvalidCommunityData(_("Give the guest's name."), field="name")
    gathering = Gathering.objects.select_for_update().get(pk=gathering.pk)
    if gathering.is_cancelled or gathering.ends_at < timezone.now():
        raise InvalidCommunityData(_("This gathering is cancelled or over."))
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        first, _sep, last = name.partition(" ")
        user = User.objects.create_user(
            username=_username_for(email), email=email, first_name=first[:150], last_name=last[:150]
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        account = GuestAccount.objects.create(
            user=user,
            language=(language or "")[:10],
            invited_by=actor if getattr(actor, "pk", None) else None,
        )
    else:
        account = GuestAccount.objects.filter(user=user).first()
        if account is None:
            raise InvalidCommunityData(
                _(
                    "This address belongs to a member: add them as a speaker by name, they log in as themselves."
                ),
                field="email",
            )
    grant, created = GuestGrant.objects.get_or_create(
        account=account,
        gathering=gathering,
        defaults={"role": role, "expires_at": gathering.ends_at + grace()},
    )
    if not created:
        grant.role, grant.expires_at, grant.revoked_at = role, gathering.ends_at + grace(), None
        grant.save(update_fields=["role", "expires_at", "revoked_at"])
    if role == GuestGrant.Role.ATTENDEE:
        _hold_place(gathering, email=email, name=name, affiliation=affiliation, language=language)
    if (
        role == GuestGrant.Role.SPEAKER
        and not Speaker.objects.filter(gathering=gathering, user=user).exists()
    ):
        Speaker.objects.create(
            gathering=gathering,
            user=user,
            name=name,
            affiliation=(affiliation or "")[:150],
            bio=bio or "",
            is_guest=True,
        )
    audit.record(
        actor=actor,
        action="community.guest.invite",
        obj=grant,
        summary=f"Invited {email} to {gathering} as {role} (until {grant.expires_at:%Y-%m-%d})",
    )
    grant_id = grant.pk
    transaction.on_commit(lambda: _mail_invitation(grant_id))
    return grant


def _hold_place(gathering: Gathering, *, email: str, name: str, affiliation: str, language: str) -> None:
    """An invited outside attendee holds a place (a confirmed guest registration: the attendee list, the reminders),
    if one is free; a full gathering refuses the invitation (the gathering row is locked by the caller)."""
    from dandelion.community.models import GuestRegistration
    from dandelion.community.services import _going_count

    reg, _created = GuestRegistration.objects.get_or_create(
        gathering=gathering,
        email=email,
        defaults={"name": name, "affiliation": (affiliation or "")[:150], "language": (language or "")[:10]},
    )
    if reg.status == GuestRegistration.Status.GOING:
        return
    if _going_count(gathering) >= gathering.capacity:
        raise InvalidCommunityData(_("Sorry, the gathering is full."))
    reg.status, reg.confirmed_at = GuestRegistration.Status.GOING, timezone.now()
    reg.save(update_fields=["status", "confirmed_at"])


def _mail_invitation(grant_id: int) -> None:
    from django.core.mail import send_mail
    from django.urls import reverse
    from django.utils import translation
    from django.utils.formats import date_format

    from dandelion.community.services import _site_url, _unit_zone

    grant = GuestGrant.objects.select_related("account__user", "gathering__unit").get(pk=grant_id)
    user, gathering = grant.account.user, grant.gathering
    if user.has_usable_password():
        link = _site_url(reverse("community:gathering-detail", args=[gathering.pk]))
    else:
        link = _site_url(reverse("community:guest-welcome", args=[login_token(user)]))
    with translation.override(grant.account.language or None), timezone.override(_unit_zone(gathering.unit)):
        when = date_format(timezone.localtime(gathering.starts_at), "DATETIME_FORMAT")
        send_mail(
            subject=_("You are invited: %(t)s") % {"t": gathering.title},
            message=_(
                "Hello %(name)s,\n\nYou are invited to %(title)s (%(when)s) as %(role)s. Your access shows "
                "this gathering's page and materials only, until %(until)s.\n\n%(link)s\n\nIf the link asks "
                "you to choose a password, it is valid for two weeks and can be used once."
            )
            % {
                "name": user.get_full_name() or user.get_username(),
                "title": gathering.title,
                "when": when,
                "role": grant.get_role_display(),
                "link": link,
                "until": date_format(timezone.localtime(grant.expires_at), "DATE_FORMAT"),
            },
            from_email=None,
            recipient_list=[user.email],
            fail_silently=False,
        )


def user_for_token(token: str):
    """The guest user of a set-password link, or :class:`InvalidCommunityData` (expired, used, forged)."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise InvalidCommunityData(
            _("This invitation link has expired: ask the organiser for a new one.")
        ) from exc
    except signing.BadSignature as exc:
        raise InvalidCommunityData(_("This invitation link is not valid.")) from exc
    account = GuestAccount.objects.select_related("user").filter(user_id=data.get("u")).first()
    if account is None or not account.user.is_active or data.get("p") != _pw_digest(account.user):
        raise InvalidCommunityData(_("This invitation link has already been used or is not valid."))
    return account.user


@transaction.atomic
def set_guest_password(token: str, password: str):
    """Follow the invitation: set the guest's password (the link then stops working). Returns the user."""
    from dandelion.core.actors import SYSTEM

    user = user_for_token(token)
    user.set_password(password)
    user.save(update_fields=["password"])
    GuestAccount.objects.filter(user=user).update(activated_at=timezone.now())
    grant = GuestGrant.objects.filter(account__user=user).select_related("gathering__unit").first()
    audit.record(
        actor=SYSTEM,
        action="community.guest.activate",
        obj=grant,
        summary=f"Guest {user.email} set a password",
    )
    return user


@transaction.atomic
def revoke_guest(grant: GuestGrant, *, actor) -> GuestGrant:
    require_perm(actor, "community.change_gathering", grant.gathering.unit)
    now = timezone.now()
    if not GuestGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(revoked_at=now):
        grant.refresh_from_db(fields=["revoked_at"])  # already revoked: nothing more to do or audit
        return grant
    grant.revoked_at = now
    audit.record(
        actor=actor,
        action="community.guest.revoke",
        obj=grant,
        summary=f"Revoked {grant.account.user.email}'s access to {grant.gathering}",
    )
    return grant


def is_guest(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and GuestAccount.objects.filter(user=user).exists()


def mark_session(sender, request, user, **kwargs) -> None:
    """``user_logged_in``: remember in the session that this login is a guest's (one query per login)."""
    if request is not None and hasattr(request, "session"):
        if GuestAccount.objects.filter(user=user).exists():
            request.session[SESSION_KEY] = True
        else:
            request.session.pop(SESSION_KEY, None)


def active_gathering_ids(user) -> set[int]:
    return set(
        GuestGrant.objects.filter(
            account__user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).values_list("gathering_id", flat=True)
    )


#: The URL names a guest may open: with the gathering's id in kwargs["pk"] (or a material's for downloads).
GATHERING_URLS = frozenset({"community:gathering-detail", "community:gathering-ics"})
OPEN_URLS = frozenset({"logout", "community:guest-welcome", "set_language", "javascript-catalog", "jsi18n"})


def allowed(match, gathering_ids: set[int]) -> bool:
    """May a guest holding ``gathering_ids`` open the resolved URL ``match``?"""
    if match is None:
        return False
    name = match.view_name
    if name in OPEN_URLS:
        return True
    pk = match.kwargs.get("pk")
    if name in GATHERING_URLS:
        return pk in gathering_ids
    if name == "community:material-download":
        return Material.objects.filter(pk=pk, gathering_id__in=gathering_ids).exists()
    return False


def navigation(gathering_ids: set[int]) -> list[tuple[str, str]]:
    """The sidebar of a guest: their gatherings' pages (``request.restricted_navigation``, read by core's navigation)."""
    from django.urls import reverse

    return [(g.title, reverse("community:gathering-detail", kwargs={"pk": g.pk}))
            for g in Gathering.objects.filter(pk__in=gathering_ids).order_by("starts_at")]


def guest_gatherings(user):
    """The gatherings a guest's page queries read (instead of the members' restricted queryset)."""
    return Gathering.objects.filter(pk__in=active_gathering_ids(user))


def guest_materials(user):
    return Material.objects.filter(gathering_id__in=active_gathering_ids(user))
