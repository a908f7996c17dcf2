"""Every write to the organisation: units, teams, memberships, guidelines.

Each service takes keyword-only arguments including ``actor``, runs in one transaction, checks the actor's
permission on the unit it touches (a grant covers the unit's subtree), raises an error from
``orgs/exceptions.py`` for rule violations and writes exactly one audit row.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from dandelion.core import audit
from dandelion.core.memo import config_changed
from dandelion.core.permissions import clear_grant_cache, require_perm
from dandelion.orgs import exceptions as exc
from dandelion.orgs.choices import Role, UnitKind
from dandelion.orgs.models import Guideline, GuidelineAcknowledgement, Membership, OrgUnit, Team

logger = logging.getLogger(__name__)

UNIT_EDITABLE_FIELDS = frozenset({"name", "slug", "kind", "country", "languages", "timezone"})
TEAM_EDITABLE_FIELDS = frozenset({"name", "kind", "languages", "timezone", "email"})
MEMBERSHIP_EDITABLE_FIELDS = frozenset({"role", "team", "is_available", "capacity"})
GUIDELINE_EDITABLE_FIELDS = frozenset({"title", "body", "change_summary"})
MAX_PATH_LENGTH = OrgUnit._meta.get_field("path").max_length


# --- helpers -------------------------------------------------------------------------------------------------
def _check_fields(fields: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise exc.DandelionError(_("Unknown or read-only field(s): %(join)s.") % {"join": ', '.join(unknown)}, field=unknown[0])


def root_unit() -> OrgUnit | None:
    """The hub: the unit without a parent (the oldest one, should several exist)."""
    return OrgUnit.objects.filter(parent__isnull=True).order_by("id").first()


def unique_slug(name: str, *, exclude_pk: int | None = None) -> str:
    """A slug for ``name`` that no other unit uses (``france``, ``france-2``...)."""
    max_len = OrgUnit._meta.get_field("slug").max_length
    base = (slugify(name) or "unit")[: max_len - 4]
    taken = set(
        OrgUnit.objects.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True)
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


# --- units ---------------------------------------------------------------------------------------------------
@transaction.atomic
def create_unit(
    *,
    actor,
    parent: OrgUnit | None,
    name: str,
    slug: str = "",
    kind: str = UnitKind.COUNTRY,
    country: str = "",
    languages: Iterable[str] = (),
    timezone: str = "UTC",
) -> OrgUnit:
    """Create a unit under ``parent`` (``orgs.add_orgunit`` on the parent). Without a parent it is the root,
    which only a hub-level grant (``orgs.add_orgunit_root``) may create, and only once."""
    if parent is None:
        require_perm(actor, "orgs.add_orgunit_root")
        if OrgUnit.objects.filter(parent__isnull=True).exists():
            raise exc.RootUnitError(_("The organisation already has a root unit; choose a parent."), field="parent")
    else:
        require_perm(actor, "orgs.add_orgunit", parent)
        if not parent.is_active:
            raise exc.DandelionError(_("%(parent)s is deactivated: units cannot be added under it.") % {"parent": parent}, field="parent")
    slug = slug or unique_slug(name)
    if OrgUnit.objects.filter(slug=slug).exists():
        raise exc.ConflictError(_("The slug '%(slug)s' is already used by another unit.") % {"slug": slug}, field="slug")
    unit = OrgUnit(
        parent=parent, name=name, slug=slug, kind=kind, country=country.upper(), languages=list(languages),
        timezone=timezone,
    )
    unit.save()
    audit.record(
        actor=actor,
        action="orgs.orgunit.create",
        obj=unit,
        summary=f"Created unit {unit.name}" + (f" under {parent.name}" if parent else " (root)"),
        changes=audit.diff({}, audit.snapshot(unit)),
    )
    return unit


@transaction.atomic
def update_unit(*, actor, unit: OrgUnit, **fields: Any) -> OrgUnit:
    """Change a unit's name, slug, kind, country, languages or time zone (``orgs.change_orgunit``).
    Moving and (de)activating have their own services."""
    _check_fields(fields, UNIT_EDITABLE_FIELDS)
    require_perm(actor, "orgs.change_orgunit", unit)
    if "slug" in fields and OrgUnit.objects.filter(slug=fields["slug"]).exclude(pk=unit.pk).exists():
        raise exc.ConflictError(_("The slug '%(fields)s' is already used by another unit.") % {"fields": fields['slug']}, field="slug")
    if "country" in fields:
        fields["country"] = (fields["country"] or "").upper()
    if "languages" in fields:
        fields["languages"] = list(fields["languages"] or [])
    before = audit.snapshot(unit)
    for name, value in fields.items():
        setattr(unit, name, value)
    unit.save()
    changes = audit.diff(before, audit.snapshot(unit))
    changes.pop("updated_at", None)
    audit.record(actor=actor, action="orgs.orgunit.update", obj=unit, summary=f"Edited unit {unit.name}",
                 changes=changes)
    return unit


def _require_on_parent(actor, perm: str, unit: OrgUnit) -> None:
    if unit.parent_id is None:
        raise exc.RootUnitError(_("The root unit (the hub) cannot be moved or deactivated."))
    require_perm(actor, perm, unit.parent)


@transaction.atomic
def deactivate_unit(*, actor, unit: OrgUnit) -> OrgUnit:
    """Deactivate a unit (``orgs.change_orgunit`` on its parent: a spoke admin cannot switch off the top of
    their own scope). Refused while it has active child units; memberships on it stop granting anything."""
    _require_on_parent(actor, "orgs.change_orgunit", unit)
    if not unit.is_active:
        return unit
    active_children = unit.children.filter(is_active=True).count()
    if active_children:
        raise exc.UnitNotEmpty(
            _("%(name)s still has %(active_children)s active child unit(s): move or deactivate them first.") % {"name": unit.name, "active_children": active_children}
        )
    unit.is_active = False
    unit.save(update_fields=["is_active", "updated_at"])
    audit.record(actor=actor, action="orgs.orgunit.deactivate", obj=unit, summary=f"Deactivated unit {unit.name}",
                 changes={"is_active": [True, False]})
    clear_grant_cache(actor)
    return unit


@transaction.atomic
def reactivate_unit(*, actor, unit: OrgUnit) -> OrgUnit:
    """Reactivate a deactivated unit (``orgs.change_orgunit`` on its parent, which must be active)."""
    _require_on_parent(actor, "orgs.change_orgunit", unit)
    if unit.is_active:
        return unit
    if not unit.parent.is_active:
        raise exc.DandelionError(_("Reactivate %(name)s first.") % {"name": unit.parent.name}, field="parent")
    unit.is_active = True
    unit.save(update_fields=["is_active", "updated_at"])
    audit.record(actor=actor, action="orgs.orgunit.reactivate", obj=unit, summary=f"Reactivated unit {unit.name}",
                 changes={"is_active": [False, True]})
    clear_grant_cache(actor)
    return unit


@transaction.atomic
def move_unit(*, actor, unit: OrgUnit, new_parent: OrgUnit) -> OrgUnit:
    """Re-parent ``unit`` (and its whole subtree) under ``new_parent``.

    Needs ``orgs.change_orgunit`` on the current parent and ``orgs.add_orgunit`` on the new one. The subtree's
    ``path`` and ``depth`` are rewritten by one bulk UPDATE (prefix swap), whatever the subtree's size."""
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)  # fresh paths, locked where the database can
    new_parent = OrgUnit.objects.get(pk=new_parent.pk)
    _require_on_parent(actor, "orgs.change_orgunit", unit)
    require_perm(actor, "orgs.add_orgunit", new_parent)
    if new_parent.pk == unit.pk or new_parent.path.startswith(unit.path):
        raise exc.InvalidMove(_("%(name)s cannot move under itself or one of its own sub-units.") % {"name": unit.name}, field="parent")
    if not new_parent.is_active:
        raise exc.InvalidMove(_("%(name)s is deactivated.") % {"name": new_parent.name}, field="parent")
    if new_parent.pk == unit.parent_id:
        return unit
    old_path, old_parent = unit.path, unit.parent
    new_path = f"{new_parent.path}{unit.pk}/"
    longest = OrgUnit.objects.filter(path__startswith=old_path).aggregate(n=Max(Length("path")))["n"] or 0
    if longest - len(old_path) + len(new_path) > MAX_PATH_LENGTH:
        raise exc.InvalidMove(_("The tree would become too deep."), field="parent")
    delta = (new_parent.depth + 1) - unit.depth
    moved = OrgUnit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + delta,
        updated_at=timezone.now(),
    )
    OrgUnit.objects.filter(pk=unit.pk).update(parent=new_parent)
    config_changed()  # the updates above bypass save(): routing and SLA lookups kept by workers are stale
    unit.refresh_from_db()
    audit.record(
        actor=actor,
        action="orgs.orgunit.move",
        obj=unit,
        summary=f"Moved {unit.name} from {old_parent.name} to {new_parent.name} ({moved} unit(s) re-pathed)",
        changes={"parent": [old_parent.pk, new_parent.pk], "path": [old_path, unit.path]},
    )
    clear_grant_cache(actor)
    return unit


# --- teams ---------------------------------------------------------------------------------------------------
def _check_team_name(unit: OrgUnit, name: str, exclude_pk: int | None = None) -> None:
    if Team.objects.filter(unit=unit, name__iexact=name).exclude(pk=exclude_pk).exists():
        raise exc.DuplicateTeam(_("%(name)s already has a team called '%(name2)s'.") % {"name": unit.name, "name2": name}, field="name")


@transaction.atomic
def create_team(
    *,
    actor,
    unit: OrgUnit,
    name: str,
    kind: str,
    languages: Iterable[str] = (),
    timezone: str = "",
    email: str = "",
) -> Team:
    """Create a team in ``unit`` (``orgs.add_team`` on the unit)."""
    require_perm(actor, "orgs.add_team", unit)
    if not unit.is_active:
        raise exc.DandelionError(_("%(name)s is deactivated.") % {"name": unit.name}, field="unit")
    _check_team_name(unit, name)
    team = Team.objects.create(unit=unit, name=name, kind=kind, languages=list(languages), timezone=timezone,
                               email=email)
    audit.record(actor=actor, action="orgs.team.create", obj=team, summary=f"Created team {team.name}",
                 changes=audit.diff({}, audit.snapshot(team)))
    return team


@transaction.atomic
def update_team(*, actor, team: Team, **fields: Any) -> Team:
    """Change a team's name, kind, languages, time zone or e-mail (``orgs.change_team`` on its unit)."""
    _check_fields(fields, TEAM_EDITABLE_FIELDS)
    require_perm(actor, "orgs.change_team", team.unit)
    if "name" in fields:
        _check_team_name(team.unit, fields["name"], exclude_pk=team.pk)
    if "languages" in fields:
        fields["languages"] = list(fields["languages"] or [])
    before = audit.snapshot(team)
    for name, value in fields.items():
        setattr(team, name, value)
    team.save()
    changes = audit.diff(before, audit.snapshot(team))
    changes.pop("updated_at", None)
    audit.record(actor=actor, action="orgs.team.update", obj=team, summary=f"Edited team {team.name}",
                 changes=changes)
    return team


@transaction.atomic
def deactivate_team(*, actor, team: Team) -> Team:
    """Deactivate a team (``orgs.change_team``); refused while people are active members of it."""
    require_perm(actor, "orgs.change_team", team.unit)
    if not team.is_active:
        return team
    members = team.memberships.filter(is_active=True).count()
    if members:
        raise exc.TeamNotEmpty(_("%(name)s still has %(members)s active member(s): revoke or move them first.") % {"name": team.name, "members": members})
    team.is_active = False
    team.save(update_fields=["is_active", "updated_at"])
    audit.record(actor=actor, action="orgs.team.deactivate", obj=team, summary=f"Deactivated team {team.name}",
                 changes={"is_active": [True, False]})
    return team


@transaction.atomic
def reactivate_team(*, actor, team: Team) -> Team:
    """Reactivate a team (``orgs.change_team``)."""
    require_perm(actor, "orgs.change_team", team.unit)
    if team.is_active:
        return team
    team.is_active = True
    team.save(update_fields=["is_active", "updated_at"])
    audit.record(actor=actor, action="orgs.team.reactivate", obj=team, summary=f"Reactivated team {team.name}",
                 changes={"is_active": [False, True]})
    return team


# --- memberships ---------------------------------------------------------------------------------------------
def check_membership_fits(*, unit: OrgUnit, role: str, team: Team | None) -> None:
    """The rules tying a role to a unit and a team; raises :class:`InvalidMembership`."""
    if role not in Role.values:
        raise exc.InvalidMembership(_("Unknown role '%(role)s'.") % {"role": role}, field="role")
    if not unit.is_active:
        raise exc.InvalidMembership(_("%(name)s is deactivated.") % {"name": unit.name}, field="unit")
    if role == Role.HUB_ADMIN and not unit.is_root:
        raise exc.InvalidMembership(_("The hub admin role can only be granted on the root unit."), field="role")
    if role == Role.EXTERNAL_MODERATOR and team is None:
        raise exc.InvalidMembership(_("An external moderator must belong to a team."), field="team")
    if team is not None:
        if not team.unit.path.startswith(unit.path):
            raise exc.InvalidMembership(_("%(team)s is not a team of %(name)s or its sub-units.") % {"team": team, "name": unit.name}, field="team")
        if not team.is_active:
            raise exc.InvalidMembership(_("%(team)s is deactivated.") % {"team": team}, field="team")


def _is_last_hub_admin(membership: Membership) -> bool:
    if membership.role != Role.HUB_ADMIN or not membership.is_active:
        return False
    return not Membership.objects.filter(
        role=Role.HUB_ADMIN, is_active=True, unit__parent__isnull=True, user__is_active=True
    ).exclude(pk=membership.pk).exists()


@transaction.atomic
def grant_membership(
    *,
    actor,
    user,
    unit: OrgUnit,
    role: str,
    team: Team | None = None,
    is_available: bool = True,
    capacity: int = 10,
) -> Membership:
    """Grant ``role`` on ``unit`` (and its subtree) to ``user``, optionally within ``team``
    (``orgs.manage_members`` on the unit). A revoked identical membership is reactivated."""
    require_perm(actor, "orgs.manage_members", unit)
    check_membership_fits(unit=unit, role=role, team=team)
    existing = Membership.objects.filter(user=user, unit=unit, role=role, team=team).first()
    if existing is not None and existing.is_active:
        raise exc.DuplicateMembership(_("%(username)s is already %(role)s there.") % {"username": user.get_username(), "role": existing.get_role_display()})
    if existing is not None:
        before = audit.snapshot(existing)
        existing.is_active, existing.is_available, existing.capacity = True, is_available, capacity
        existing.save()
        membership, changes = existing, audit.diff(before, audit.snapshot(existing))
        changes.pop("updated_at", None)
    else:
        membership = Membership.objects.create(
            user=user, unit=unit, role=role, team=team, is_available=is_available, capacity=capacity
        )
        changes = audit.diff({}, audit.snapshot(membership))
    audit.record(
        actor=actor,
        action="orgs.membership.grant",
        obj=membership,
        summary=f"Granted {membership.get_role_display()} on {unit.name} to {user.get_username()}",
        changes=changes,
    )
    clear_grant_cache(user)
    return membership


@transaction.atomic
def update_membership(*, actor, membership: Membership, **fields: Any) -> Membership:
    """Change a membership's role, team, availability or capacity (``orgs.manage_members`` on its unit)."""
    _check_fields(fields, MEMBERSHIP_EDITABLE_FIELDS)
    require_perm(actor, "orgs.manage_members", membership.unit)
    role = fields.get("role", membership.role)
    team = fields.get("team", membership.team)
    check_membership_fits(unit=membership.unit, role=role, team=team)
    if role != membership.role and _is_last_hub_admin(membership):
        raise exc.LastHubAdmin(_("This is the last hub admin: grant the role to someone else first."))
    if (role, getattr(team, "pk", None)) != (membership.role, membership.team_id) and Membership.objects.filter(
        user_id=membership.user_id, unit_id=membership.unit_id, role=role, team=team
    ).exclude(pk=membership.pk).exists():
        raise exc.DuplicateMembership(_("The person already has that role there; revoke one of them instead."))
    before = audit.snapshot(membership)
    for name, value in fields.items():
        setattr(membership, name, value)
    membership.save()
    changes = audit.diff(before, audit.snapshot(membership))
    changes.pop("updated_at", None)
    audit.record(actor=actor, action="orgs.membership.update", obj=membership,
                 summary=f"Changed {membership}", changes=changes)
    clear_grant_cache(membership.user)
    return membership


@transaction.atomic
def revoke_membership(*, actor, membership: Membership) -> Membership:
    """Revoke (deactivate) a membership (``orgs.manage_members`` on its unit). The row stays, for history."""
    require_perm(actor, "orgs.manage_members", membership.unit)
    if not membership.is_active:
        return membership
    if _is_last_hub_admin(membership):
        raise exc.LastHubAdmin(_("This is the last hub admin: grant the role to someone else first."))
    membership.is_active = False
    membership.save(update_fields=["is_active", "updated_at"])
    audit.record(actor=actor, action="orgs.membership.revoke", obj=membership, summary=f"Revoked {membership}",
                 changes={"is_active": [True, False]})
    clear_grant_cache(membership.user)
    return membership


@transaction.atomic
def invite_member(
    *,
    actor,
    unit: OrgUnit,
    username: str,
    email: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    team: Team | None = None,
):
    """Create an account for a new person and grant them ``role`` on ``unit``. Returns the membership.

    The account has no usable password: once the transaction commits, the person is e-mailed an invitation link
    (valid ``DANDELION_INVITATION_DAYS``) where they choose one. ``membership.invitation_sent`` then says whether
    the mail server took the message (``None`` while an outer transaction is still open)."""
    require_perm(actor, "orgs.manage_members", unit)
    check_membership_fits(unit=unit, role=role, team=team)
    User = get_user_model()
    if User.objects.filter(username__iexact=username).exists():
        raise exc.UsernameTaken(_("The username '%(username)s' is taken: grant that person a role instead.") % {"username": username},
                                field="username")
    if email and User.objects.filter(email__iexact=email).exists():
        raise exc.UsernameTaken(_("A person with the e-mail %(email)s already exists.") % {"email": email}, field="email")
    user = User.objects.create_user(username=username, email=email, password=None, first_name=first_name,
                                    last_name=last_name)
    membership = Membership.objects.create(user=user, unit=unit, role=role, team=team)
    changes = audit.diff({}, audit.snapshot(membership))
    changes.update({"username": [None, username], "email": [None, email]})
    audit.record(
        actor=actor,
        action="orgs.membership.invite",
        obj=membership,
        summary=f"Invited {username} as {membership.get_role_display()} on {unit.name}",
        changes=changes,
    )
    _send_invitation_on_commit(membership, actor)
    return membership


def _send_invitation_on_commit(membership: Membership, actor) -> None:
    from dandelion.orgs.invitations import send_invitation_email

    membership.invitation_sent = None

    def send():
        membership.invitation_sent = send_invitation_email(
            user=membership.user, inviter=actor if getattr(actor, "is_authenticated", False) else None,
            unit_name=membership.unit.name, role_label=membership.get_role_display(),
        )

    transaction.on_commit(send)


def invitation_pending(user) -> bool:
    """Invited and not yet arrived: no usable password and never signed in."""
    return user.is_active and not user.has_usable_password() and user.last_login is None


@transaction.atomic
def resend_invitation(*, actor, membership: Membership) -> Membership:
    """E-mail a new invitation link to the person of ``membership`` (``orgs.manage_members`` on its unit). Earlier
    links stop working. Refused once the person has set a password."""
    require_perm(actor, "orgs.manage_members", membership.unit)
    User = get_user_model()
    user = User.objects.select_for_update().get(pk=membership.user_id)
    if not invitation_pending(user):
        raise exc.InvitationNotPending(
            _("%(username)s has already set a password (or the account is deactivated): there is no invitation to resend.") % {"username": user.get_username()}
        )
    if not user.email:
        raise exc.InvitationNotPending(_("%(username)s has no e-mail address to send the invitation to.") % {"username": user.get_username()})
    user.set_unusable_password()  # a new random marker: the links sent before no longer match
    user.save(update_fields=["password"])
    membership.user = user
    audit.record(actor=actor, action="orgs.membership.invite_resend", obj=membership,
                 summary=f"Resent the invitation of {user.get_username()} ({user.email})",
                 changes={"email": [None, user.email]})
    _send_invitation_on_commit(membership, actor)
    return membership


@transaction.atomic
def accept_invitation(*, user, password: str):
    """The invited person chose their first password (validated by the form). The actor is the person."""
    User = get_user_model()
    user = User.objects.select_for_update().get(pk=user.pk)
    if not invitation_pending(user):
        raise exc.InvitationNotPending(_("This invitation has already been used."))
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record(actor=user, action="orgs.membership.invite_accept", obj=user, unit=_acknowledgement_unit(user),
                 summary=f"{user.get_username()} accepted the invitation and set a password")
    return user


@transaction.atomic
def reset_password(*, user, password: str):
    """Set the password chosen through a reset link (validated by the form) and lift any login lockout of that
    username: the person has just proved they own the account's e-mail."""
    from axes.utils import reset as axes_reset

    user.set_password(password)
    user.save(update_fields=["password"])
    axes_reset(username=user.get_username())
    audit.record(actor=user, action="auth.password.reset", obj=user, unit=_acknowledgement_unit(user),
                 summary=f"{user.get_username()} reset their password through an e-mailed link")
    return user


# --- guidelines ----------------------------------------------------------------------------------------------
def _require_hub(actor, perm: str) -> None:
    """Guidelines belong to the hub: the permission must come from a grant on the root unit."""
    require_perm(actor, perm, root_unit())


@transaction.atomic
def create_guideline(*, actor, title: str, body: str, change_summary: str = "") -> Guideline:
    """Draft a new guideline version (hub only: ``orgs.add_guideline`` on the root). Drafts have no version."""
    _require_hub(actor, "orgs.add_guideline")
    guideline = Guideline.objects.create(title=title, body=body, change_summary=change_summary)
    audit.record(actor=actor, action="orgs.guideline.create", obj=guideline, summary=f"Drafted {guideline}",
                 changes=audit.diff({}, audit.snapshot(guideline, ["title", "change_summary"])))
    return guideline


@transaction.atomic
def update_guideline(*, actor, guideline: Guideline, **fields: Any) -> Guideline:
    """Edit a draft (``orgs.change_guideline`` on the root). Published versions are frozen."""
    _check_fields(fields, GUIDELINE_EDITABLE_FIELDS)
    _require_hub(actor, "orgs.change_guideline")
    if guideline.is_published:
        raise exc.GuidelineNotEditable(_("%(guideline)s is published: draft a new version instead.") % {"guideline": guideline})
    before = audit.snapshot(guideline, GUIDELINE_EDITABLE_FIELDS)
    for name, value in fields.items():
        setattr(guideline, name, value)
    guideline.save()
    audit.record(actor=actor, action="orgs.guideline.update", obj=guideline, summary=f"Edited {guideline}",
                 changes=audit.diff(before, audit.snapshot(guideline, GUIDELINE_EDITABLE_FIELDS)))
    return guideline


@transaction.atomic
def discard_guideline(*, actor, guideline: Guideline) -> None:
    """Delete a draft (``orgs.delete_guideline`` on the root). Published versions are kept forever."""
    _require_hub(actor, "orgs.delete_guideline")
    if guideline.is_published:
        raise exc.GuidelineNotEditable(_("%(guideline)s is published and cannot be discarded.") % {"guideline": guideline})
    audit.record(actor=actor, action="orgs.guideline.discard", obj=guideline, summary=f"Discarded {guideline}",
                 changes=audit.diff(audit.snapshot(guideline, ["title", "change_summary"]), {}))
    guideline.delete()


@transaction.atomic
def publish_guideline(*, actor, guideline: Guideline) -> Guideline:
    """Publish a draft as the next version (``orgs.publish_guideline``, hub only). It becomes current and
    everybody is asked to acknowledge it."""
    _require_hub(actor, "orgs.publish_guideline")
    guideline = Guideline.objects.select_for_update().get(pk=guideline.pk)
    if guideline.is_published:
        raise exc.GuidelineNotEditable(_("%(guideline)s is already published.") % {"guideline": guideline})
    latest = Guideline.objects.aggregate(n=Max("version"))["n"] or 0
    guideline.version = latest + 1
    guideline.published_at = timezone.now()
    guideline.published_by = actor if getattr(actor, "is_authenticated", False) else None
    try:
        with transaction.atomic():
            guideline.save(update_fields=["version", "published_at", "published_by", "updated_at"])
    except IntegrityError as err:  # another version was published at the same moment
        raise exc.ConflictError(_("Another version was published at the same time; try again.")) from err
    audit.record(
        actor=actor,
        action="orgs.guideline.publish",
        obj=guideline,
        summary=f"Published {guideline}",
        changes={"version": [None, guideline.version], "published_at": [None, guideline.published_at]},
    )
    version = guideline.version
    transaction.on_commit(lambda: logger.info("guideline version %s published", version))
    return guideline


@transaction.atomic
def acknowledge_guideline(*, actor, guideline: Guideline) -> GuidelineAcknowledgement:
    """Record that ``actor`` has read a published version. Whoever may read the guidelines may acknowledge
    them; acknowledging twice is harmless (no second row, no second audit entry)."""
    if not Guideline.objects.restrict(actor, "view").filter(pk=guideline.pk).exists():
        raise exc.PermissionDeniedError(_("You have no role in the organisation: there is nothing to acknowledge."))
    if not guideline.is_published:
        raise exc.GuidelineNotPublished(_("Only a published version can be acknowledged."))
    ack, created = GuidelineAcknowledgement.objects.get_or_create(guideline=guideline, user=actor)
    if created:
        audit.record(actor=actor, action="orgs.guideline.acknowledge", obj=guideline,
                     unit=_acknowledgement_unit(actor), summary=f"{actor.get_username()} acknowledged {guideline}",
                     changes={"acknowledged_at": [None, ack.acknowledged_at]})
    return ack


def _acknowledgement_unit(user) -> OrgUnit | None:
    """File the acknowledgement under the person's own unit, so their spoke admin sees it in the audit log."""
    m = Membership.objects.filter(user=user, is_active=True).select_related("unit").order_by("unit__depth").first()
    return m.unit if m else None



# --- people (accounts) ---------------------------------------------------------------------------------------
def _require_on_people_units(actor, user) -> None:
    """Acting on a person needs ``orgs.manage_members`` on every unit where they hold an active membership (the hub
    for a person without any)."""
    units = list(OrgUnit.objects.filter(memberships__user=user, memberships__is_active=True).distinct())
    if not units:
        require_perm(actor, "orgs.manage_members", root_unit())
    for unit in units:
        require_perm(actor, "orgs.manage_members", unit)


@transaction.atomic
def create_person(*, actor, username: str, email: str = "", first_name: str = "", last_name: str = "",
                  unit: OrgUnit):
    """Create a person's account without a usable password (they sign in through an identity provider), for a
    provisioning source acting on ``unit`` (``orgs.manage_members`` there). Roles are granted separately."""
    require_perm(actor, "orgs.manage_members", unit)
    User = get_user_model()
    username = (username or "").strip()
    if not username or len(username) > 150:
        raise exc.DandelionError(_("A username of 1 to 150 characters is required."), field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise exc.UsernameTaken(_("The username '%(username)s' is taken.") % {"username": username}, field="username")
    user = User.objects.create_user(username=username, email=email or "", password=None,
                                    first_name=(first_name or "")[:150], last_name=(last_name or "")[:150])
    audit.record(actor=actor, action="orgs.person.create", obj=user, unit=unit,
                 summary=f"Created the account of {username}",
                 changes={"username": [None, username], "email": [None, email or ""]})
    return user


@transaction.atomic
def update_person(*, actor, user, **fields: Any):
    """Change a person's name or e-mail (``orgs.manage_members`` on every unit of theirs)."""
    _check_fields(fields, {"email", "first_name", "last_name"})
    _require_on_people_units(actor, user)
    before = audit.snapshot(user, fields=fields.keys())
    for name, value in fields.items():
        setattr(user, name, (value or "")[:254 if name == "email" else 150])
    changes = audit.diff(before, audit.snapshot(user, fields=fields.keys()))
    if changes:
        user.save(update_fields=list(fields))
        audit.record(actor=actor, action="orgs.person.update", obj=user, unit=_acknowledgement_unit(user),
                     summary=f"Changed the details of {user.get_username()}", changes=changes)
    return user


@transaction.atomic
def deactivate_person(*, actor, user, reason: str = "", check_perm: bool = True):
    """A leaver: the account is deactivated, every session and API token of theirs ends at once (the session
    hash changes, tokens are deleted), and ``person_deactivated`` lets the registry flag the accounts they own.

    ``orgs.manage_members`` on every unit where they hold a role (``check_perm=False`` for a provisioning source
    that checked its own scope). Deactivating an inactive person does nothing."""
    from rest_framework.authtoken.models import Token

    from dandelion.orgs.signals import person_deactivated

    if check_perm:
        _require_on_people_units(actor, user)
    User = get_user_model()
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return user
    if getattr(actor, "pk", None) == user.pk:
        raise exc.DandelionError(_("You cannot deactivate yourself."))
    hub_admin = Membership.objects.filter(user=user, role=Role.HUB_ADMIN, is_active=True,
                                          unit__parent__isnull=True).first()
    if hub_admin is not None and _is_last_hub_admin(hub_admin):
        raise exc.LastHubAdmin(_("This is the last hub admin: grant the role to someone else first."))
    user.is_active = False
    user.set_unusable_password()  # a new session hash: every session of theirs is refused on its next request
    user.save(update_fields=["is_active", "password"])
    tokens = Token.objects.filter(user=user).delete()[0]
    audit.record(actor=actor, action="orgs.person.deactivate", obj=user, unit=_acknowledgement_unit(user),
                 summary=f"Deactivated {user.get_username()}" + (f": {reason}" if reason else ""),
                 changes={"is_active": [True, False], "api_tokens_deleted": tokens})
    clear_grant_cache(user)
    person_deactivated.send(sender=User, user=user, actor=actor, reason=reason)
    return user


@transaction.atomic
def reactivate_person(*, actor, user, check_perm: bool = True):
    """Let a deactivated person in again (they sign in through their identity provider or a password reset)."""
    if check_perm:
        _require_on_people_units(actor, user)
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit.record(actor=actor, action="orgs.person.reactivate", obj=user, unit=_acknowledgement_unit(user),
                 summary=f"Reactivated {user.get_username()}", changes={"is_active": [False, True]})
    clear_grant_cache(user)
    return user
