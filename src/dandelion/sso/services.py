"""Every write of single sign-on: providers, claim rules, and provisioning (first sign-in, SCIM, leavers).

Providers and rules are the hub's (``sso.manage_identityprovider``, which only the hub admin role holds, on the
root unit). Provisioning acts as :data:`~dandelion.core.actors.SYSTEM` through the organisation's services, after
checking the provider's own scope: a provider only ever grants, revokes or deactivates inside the subtree it is
bound to. Each service runs in one transaction and writes its audit rows; a refusal writes its audit row in its
own transaction, so nothing is half-provisioned and the refusal is still on record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dandelion.core import audit
from dandelion.core.actors import SYSTEM
from dandelion.core.permissions import require_perm
from dandelion.orgs import services as orgs
from dandelion.orgs.exceptions import DandelionError as OrgsError
from dandelion.orgs.models import Membership, OrgUnit, Team
from dandelion.sso import exceptions as exc
from dandelion.sso.choices import Protocol
from dandelion.sso.models import ClaimRule, ExternalIdentity, IdentityProvider, LocalPasswordPolicy, ScimGroup

PERM_MANAGE = "sso.manage_identityprovider"
PROVIDER_FIELDS = frozenset({"name", "issuer", "client_id", "scopes", "username_claim", "is_active",
                             "local_passwords_off", "saml_metadata_xml"})
USERNAME_RE = re.compile(r"^[\w.@+-]{1,150}$")


#: what the audit log copies of a provider (never the encrypted secret or the SCIM token's hash)
PROVIDER_AUDIT_FIELDS = ("name", "slug", "protocol", "issuer", "client_id", "scopes", "username_claim", "bound_unit",
                         "is_active", "local_passwords_off", "scim_token_hint")


def _provider_snapshot(provider: IdentityProvider) -> dict:
    return audit.snapshot(provider, PROVIDER_AUDIT_FIELDS)


def _require_hub(actor) -> None:
    require_perm(actor, PERM_MANAGE, orgs.root_unit())


# --- providers -----------------------------------------------------------------------------------------------
def _checked_issuer(*, protocol: str, issuer: str, client_id: str, metadata: str) -> str:
    """The provider's issuer once its protocol's settings are checked: an OpenID Connect provider needs an issuer
    URL and a client id; a SAML one well-formed identity provider metadata, whose entity id is the issuer."""
    issuer = (issuer or "").strip()
    if protocol == Protocol.SAML:
        from dandelion.sso.saml import metadata_entity_id

        try:
            entity = metadata_entity_id(metadata or "")
        except ValueError as e:
            raise exc.DandelionError(str(e), field="saml_metadata_xml") from e
        if issuer and issuer != entity:
            raise exc.DandelionError(_("The metadata's entity id is %(entity)s, not %(issuer)s.") % {"entity": entity, "issuer": issuer}, field="issuer")
        return entity
    if protocol != Protocol.OIDC:
        raise exc.DandelionError(_("Unknown protocol %(protocol)r.") % {"protocol": protocol}, field="protocol")
    try:
        URLValidator(schemes=["https", "http"])(issuer)
    except ValidationError as e:
        raise exc.DandelionError(_("The issuer must be the provider's URL."), field="issuer") from e
    if not (client_id or "").strip():
        raise exc.DandelionError(_("An OpenID Connect provider needs a client id."), field="client_id")
    return issuer


@transaction.atomic
def create_provider(*, actor, name: str, slug: str, bound_unit: OrgUnit, issuer: str = "", client_id: str = "",
                    client_secret: str = "", protocol: str = Protocol.OIDC, **fields: Any) -> IdentityProvider:
    """Add an identity provider bound to ``bound_unit``'s subtree (the hub only)."""
    _require_hub(actor)
    unknown = set(fields) - PROVIDER_FIELDS
    if unknown:
        raise exc.DandelionError(_("Unknown field(s): %(join)s.") % {"join": ', '.join(sorted(unknown))}, field=min(unknown))
    issuer = _checked_issuer(protocol=protocol, issuer=issuer, client_id=client_id,
                             metadata=fields.get("saml_metadata_xml", ""))
    if IdentityProvider.objects.filter(issuer=issuer).exists():
        raise exc.ConflictError(_("A provider with the issuer %(issuer)s exists already.") % {"issuer": issuer}, field="issuer")
    if IdentityProvider.objects.filter(slug=slug).exists():
        raise exc.ConflictError(_("A provider with the slug %(slug)s exists already.") % {"slug": slug}, field="slug")
    provider = IdentityProvider(name=name, slug=slug, protocol=protocol, issuer=issuer, client_id=client_id,
                                bound_unit=bound_unit, **fields)
    provider.set_client_secret(client_secret)
    provider.save()
    audit.record(actor=actor, action="sso.provider.create", obj=provider,
                 summary=f"Added the identity provider {name} bound to {bound_unit.name}",
                 changes=audit.diff({}, _provider_snapshot(provider)))
    return provider


@transaction.atomic
def update_provider(*, actor, provider: IdentityProvider, client_secret: str | None = None,
                    **fields: Any) -> IdentityProvider:
    """Change a provider's settings (its bound unit does not change: make a new provider)."""
    _require_hub(actor)
    unknown = set(fields) - PROVIDER_FIELDS
    if unknown:
        raise exc.DandelionError(_("Unknown or read-only field(s): %(join)s.") % {"join": ', '.join(sorted(unknown))}, field=min(unknown))
    if provider.protocol == Protocol.SAML and "saml_metadata_xml" in fields:  # the issuer follows the metadata
        fields["issuer"] = _checked_issuer(protocol=Protocol.SAML, issuer=fields.get("issuer", ""), client_id="",
                                           metadata=fields["saml_metadata_xml"])
    elif provider.protocol == Protocol.SAML and fields.get("issuer", provider.issuer) != provider.issuer:
        raise exc.DandelionError(_("A SAML provider's issuer is its metadata's entity id."), field="issuer")
    elif provider.protocol == Protocol.OIDC and {"issuer", "client_id"} & set(fields):
        fields["issuer"] = _checked_issuer(protocol=Protocol.OIDC, issuer=fields.get("issuer", provider.issuer),
                                           client_id=fields.get("client_id", provider.client_id), metadata="")
    if "issuer" in fields and IdentityProvider.objects.filter(issuer=fields["issuer"]).exclude(pk=provider.pk).exists():
        raise exc.ConflictError(_("A provider with the issuer %(fields)s exists already.") % {"fields": fields['issuer']}, field="issuer")
    before = _provider_snapshot(provider)
    for name, value in fields.items():
        setattr(provider, name, value)
    if client_secret:
        provider.set_client_secret(client_secret)
    provider.save()
    changes = audit.diff(before, _provider_snapshot(provider))
    if client_secret:
        changes["client_secret"] = ["…", "(replaced)"]
    audit.record(actor=actor, action="sso.provider.update", obj=provider, summary=f"Changed {provider}",
                 changes=changes)
    return provider


@transaction.atomic
def rotate_scim_token(*, actor, provider: IdentityProvider) -> str:
    """A new SCIM bearer token for ``provider`` (returned once; only its hash is kept). The old one stops working."""
    _require_hub(actor)
    token = provider.new_scim_token()
    provider.save(update_fields=["scim_token_hash", "scim_token_hint", "updated_at"])
    audit.record(actor=actor, action="sso.provider.scim_token", obj=provider,
                 summary=f"New SCIM token for {provider} (…{provider.scim_token_hint})")
    return token


@transaction.atomic
def delete_provider(*, actor, provider: IdentityProvider) -> None:
    """Remove a provider with its rules, SCIM groups and identity links. The people it provisioned keep their
    accounts and roles (deactivate them by hand if they should go); they can no longer sign in through it."""
    _require_hub(actor)
    linked = provider.identities.count()
    audit.record(actor=actor, action="sso.provider.delete", obj=provider,
                 summary=f"Removed the identity provider {provider} ({linked} linked people keep their accounts)",
                 changes=audit.diff(_provider_snapshot(provider), {}))
    provider.delete()


# --- local passwords per unit --------------------------------------------------------------------------------
@transaction.atomic
def set_local_passwords(*, actor, unit: OrgUnit, allowed: bool) -> bool:
    """Allow or switch off local passwords for the people holding a role in ``unit``'s subtree (the hub only).
    Returns whether anything changed (setting the current state again writes nothing)."""
    _require_hub(actor)
    policy = LocalPasswordPolicy.objects.select_for_update().filter(unit=unit).first()
    if allowed == (policy is None):
        return False
    if allowed:
        audit.record(actor=actor, action="sso.local_passwords.on", obj=policy,
                     summary=f"Local passwords allowed again in {unit.name}",
                     changes={"local_passwords_off": [True, False]})
        policy.delete()
    else:
        policy = LocalPasswordPolicy.objects.create(unit=unit)
        audit.record(actor=actor, action="sso.local_passwords.off", obj=policy,
                     summary=f"Local passwords switched off in {unit.name} and its sub-units",
                     changes={"local_passwords_off": [False, True]})
    return True


def local_passwords_off_for(user) -> OrgUnit | None:
    """The unit whose switch keeps ``user`` from signing in with a password (None when they may)."""
    paths = list(Membership.objects.filter(user=user, is_active=True).values_list("unit__path", flat=True))
    if not paths:
        return None
    for policy in LocalPasswordPolicy.objects.select_related("unit"):
        if any(path.startswith(policy.unit.path) for path in paths):
            return policy.unit
    return None


# --- rules ---------------------------------------------------------------------------------------------------
def check_rule(*, provider: IdentityProvider, unit: OrgUnit, role: str, team: Team | None) -> None:
    """A rule may only grant inside the provider's subtree, and only what a membership may be."""
    if not provider.covers(unit):
        raise exc.InvalidRule(
            _("%(name)s is bound to %(name2)s: it cannot grant roles on %(name3)s.") % {"name": provider.name, "name2": provider.bound_unit.name, "name3": unit.name},
            field="unit")
    try:
        orgs.check_membership_fits(unit=unit, role=role, team=team)
    except OrgsError as e:
        raise exc.InvalidRule(e.message, field=e.field) from e


@transaction.atomic
def create_rule(*, actor, provider: IdentityProvider, value: str, unit: OrgUnit, role: str,
                claim: str = "groups", team: Team | None = None) -> ClaimRule:
    """Map ``claim`` = ``value`` of ``provider`` to ``role`` on ``unit`` (the hub only)."""
    _require_hub(actor)
    claim, value = (claim or "").strip(), (value or "").strip()
    if not claim or not value:
        raise exc.InvalidRule(_("A rule needs a claim and a value."), field="value")
    check_rule(provider=provider, unit=unit, role=role, team=team)
    if ClaimRule.objects.filter(provider=provider, claim=claim, value=value, unit=unit, role=role, team=team).exists():
        raise exc.ConflictError(_("This rule exists already."))
    rule = ClaimRule.objects.create(provider=provider, claim=claim, value=value, unit=unit, role=role, team=team)
    audit.record(actor=actor, action="sso.rule.create", obj=rule, summary=f"{provider}: {rule}",
                 changes=audit.diff({}, audit.snapshot(rule)))
    return rule


RULE_FIELDS = frozenset({"claim", "value", "unit", "team", "role", "is_active"})


@transaction.atomic
def update_rule(*, actor, rule: ClaimRule, **fields: Any) -> ClaimRule:
    """Change a rule (or turn it off with ``is_active=False``): the result must still fit the provider's subtree."""
    _require_hub(actor)
    unknown = set(fields) - RULE_FIELDS
    if unknown:
        raise exc.DandelionError(_("Unknown field(s): %(join)s.") % {"join": ', '.join(sorted(unknown))}, field=min(unknown))
    before = audit.snapshot(rule)
    for name in ("claim", "value"):
        if name in fields:
            fields[name] = (fields[name] or "").strip()
            if not fields[name]:
                raise exc.InvalidRule(_("A rule needs a claim and a value."), field=name)
    for name, value in fields.items():
        setattr(rule, name, value)
    check_rule(provider=rule.provider, unit=rule.unit, role=rule.role, team=rule.team)
    if ClaimRule.objects.filter(provider=rule.provider, claim=rule.claim, value=rule.value, unit=rule.unit,
                                role=rule.role, team=rule.team).exclude(pk=rule.pk).exists():
        raise exc.ConflictError(_("This rule exists already."))
    rule.save()
    changes = audit.diff(before, audit.snapshot(rule))
    if changes:
        audit.record(actor=actor, action="sso.rule.update", obj=rule, summary=f"{rule.provider}: {rule}",
                     changes=changes)
    return rule


@transaction.atomic
def delete_rule(*, actor, rule: ClaimRule) -> None:
    """Remove a rule (the people it gave a role keep it until their next sign-in or SCIM update)."""
    _require_hub(actor)
    audit.record(actor=actor, action="sso.rule.delete", obj=rule, summary=f"{rule.provider}: removed {rule}",
                 changes=audit.diff(audit.snapshot(rule), {}))
    rule.delete()


# --- provisioning --------------------------------------------------------------------------------------------
Grant = tuple[int, int | None, str]  # (unit id, team id, role)


def grants_for_claims(provider: IdentityProvider, claims: dict) -> list[ClaimRule]:
    """The active rules of ``provider`` the claims match. A rule pointing outside the provider's subtree (the tree
    moved since it was saved) refuses the whole sign-in."""
    wanted = Q(pk__in=[])
    for name, got in claims.items():  # only the rules whose claim and value the token holds (one indexed query)
        values = [str(v) for v in (got if isinstance(got, (list, tuple)) else [got]) if isinstance(v, (str, int))]
        if values and isinstance(name, str):
            wanted |= Q(claim=name, value__in=values[:1000])
    rules = [r for r in provider.rules.filter(wanted, is_active=True).select_related("unit", "team")
             if r.matches(claims)]
    for rule in rules:
        if not provider.covers(rule.unit):
            raise exc.SignInRefused(
                _("The rule '%(rule)s' of %(name)s points outside the units it may populate: ask your administrator to fix it.") % {"rule": rule, "name": provider.name}, reason="rule_outside_subtree")
    return rules


def _sync_grants(*, provider: IdentityProvider, user, rules: Iterable[ClaimRule]) -> dict[str, list[str]]:
    """Make the person's roles inside the provider's subtree exactly what ``rules`` give: grant the missing ones,
    revoke the others there (roles outside the subtree are not the provider's to touch)."""
    wanted = {(r.unit_id, r.team_id, r.role): r for r in rules}
    current = {(m.unit_id, m.team_id, m.role): m for m in Membership.objects.filter(
        user=user, is_active=True, unit__path__startswith=provider.bound_unit.path).select_related("unit", "team")}
    granted, revoked = [], []
    for key, rule in wanted.items():
        if key not in current:
            m = orgs.grant_membership(actor=SYSTEM, user=user, unit=rule.unit, role=rule.role, team=rule.team)
            granted.append(str(m))
    for key, m in current.items():
        if key not in wanted:
            orgs.revoke_membership(actor=SYSTEM, membership=m)
            revoked.append(str(m))
    return {"granted": granted, "revoked": revoked}


def _username_from(provider: IdentityProvider, claims: dict) -> str:
    value = claims.get(provider.username_claim) or claims.get("email") or ""
    if isinstance(value, (list, tuple)):  # SAML attributes are lists
        value = value[0] if value else ""
    value = str(value).strip()
    if not USERNAME_RE.match(value):
        raise exc.SignInRefused(_("%(name)s sent no usable user name ('%(username_claim)s' or 'email').") % {"name": provider.name, "username_claim": provider.username_claim},
                                reason="no_username")
    return value


def record_refusal(*, provider: IdentityProvider | None, reason: str, message: str, subject: str = "") -> None:
    """The audit row of a refused sign-in or SCIM call, in its own transaction (the refused work rolled back)."""
    with transaction.atomic():
        audit.record(actor=SYSTEM, action="sso.signin.refused" if not reason.startswith("scim") else "sso.scim.refused",
                     obj=provider, unit=provider.bound_unit if provider else None,
                     summary=f"{provider or 'Unknown provider'}: {message}"[:300],
                     changes={"reason": reason, "subject": subject[:255]})


def sign_in(*, provider: IdentityProvider, claims: dict):
    """The person behind validated ID token ``claims`` signs in: found by their subject (or their SCIM-provisioned
    user name), or created on first sign-in with exactly the roles the provider's rules give. Raises
    :class:`SignInRefused` (nothing written) when they get no role, are deactivated, or the user name is taken;
    except for a known person the provider no longer maps: their roles inside its subtree are revoked (and kept
    revoked) before the refusal."""
    user, refusal = _sign_in(provider=provider, claims=claims)
    if refusal is not None:
        raise refusal
    return user


@transaction.atomic
def _sign_in(*, provider: IdentityProvider, claims: dict):
    subject = str(claims.get("sub") or "")
    if not subject:
        raise exc.SignInRefused(_("The ID token has no subject."), reason="no_subject")
    rules = grants_for_claims(provider, claims)
    identity = (ExternalIdentity.objects.select_for_update().filter(provider=provider, subject=subject).first())
    username = _username_from(provider, claims)
    if identity is None:
        identity = ExternalIdentity.objects.select_for_update().filter(provider=provider, username=username,
                                                                        subject="").first()
    User = get_user_model()
    created = False
    if identity is None:
        if not rules:
            raise exc.SignInRefused(_("%(name)s gives you no role in Dandelion: ask your administrator to add you to a group it maps.") % {"name": provider.name}, reason="no_role")
        if User.objects.filter(username__iexact=username).exists():
            raise exc.SignInRefused(_("The user name %(username)s belongs to another account: an administrator must link it first.") % {"username": username}, reason="username_taken")
        user = orgs.create_person(actor=SYSTEM, username=username, email=str(claims.get("email") or ""),
                                  first_name=str(claims.get("given_name") or ""),
                                  last_name=str(claims.get("family_name") or ""), unit=provider.bound_unit)
        identity = ExternalIdentity.objects.create(provider=provider, user=user, subject=subject, username=username)
        created = True
    user = identity.user
    if not user.is_active:
        raise exc.SignInRefused(_("Your account is deactivated."), reason="deactivated")
    if not rules and not Membership.objects.filter(user=user, is_active=True).exclude(
            unit__path__startswith=provider.bound_unit.path).exists():
        # the provider took every role away and none is held elsewhere: that is a leaver
        _sync_grants(provider=provider, user=user, rules=[])  # committed: the refusal is raised after the commit
        return None, exc.SignInRefused(f"{provider.name} gives you no role in Dandelion any more.", reason="no_role")
    changes = _sync_grants(provider=provider, user=user, rules=rules)
    identity.subject = subject
    identity.last_sign_in_at = timezone.now()
    identity.save(update_fields=["subject", "last_sign_in_at", "updated_at"])
    audit.record(actor=user, action="sso.signin", obj=identity,
                 summary=f"{user.get_username()} signed in through {provider.name}"
                         + (" for the first time" if created else ""),
                 changes={"created": created, **changes})
    return user, None


# --- SCIM ----------------------------------------------------------------------------------------------------
def _scim_claims(identity: ExternalIdentity) -> dict:
    return {"groups": list(identity.scim_groups.values_list("display_name", flat=True))}


def scim_sync(*, provider: IdentityProvider, identity: ExternalIdentity) -> dict:
    """Apply the provider's ``groups`` rules to the person's SCIM groups (inside the provider's subtree)."""
    if not identity.user.is_active:
        return {"granted": [], "revoked": []}
    return _sync_grants(provider=provider, user=identity.user, rules=grants_for_claims(provider,
                                                                                         _scim_claims(identity)))


@transaction.atomic
def scim_create_user(*, provider: IdentityProvider, username: str, email: str = "", first_name: str = "",
                     last_name: str = "", external_id: str = "", active: bool = True) -> ExternalIdentity:
    if not USERNAME_RE.match(username or ""):
        raise exc.DandelionError(_("userName must be 1 to 150 letters, digits and @.+-_"), field="userName")
    if ExternalIdentity.objects.filter(provider=provider, username=username).exists():
        raise exc.ConflictError(_("The user %(username)s exists already.") % {"username": username})
    if get_user_model().objects.filter(username__iexact=username).exists():
        raise exc.ConflictError(_("The user name %(username)s belongs to another account.") % {"username": username})
    user = orgs.create_person(actor=SYSTEM, username=username, email=email, first_name=first_name,
                              last_name=last_name, unit=provider.bound_unit)
    identity = ExternalIdentity.objects.create(provider=provider, user=user, username=username,
                                               external_id=external_id)
    audit.record(actor=SYSTEM, action="sso.scim.user_create", obj=identity,
                 summary=f"{provider.name} provisioned {username} by SCIM")
    if not active:
        scim_set_active(provider=provider, identity=identity, active=False)
    return identity


@transaction.atomic
def scim_update_user(*, provider: IdentityProvider, identity: ExternalIdentity, **fields: Any) -> ExternalIdentity:
    """Replace a person's name and e-mail (``active`` goes through :func:`scim_set_active`)."""
    details = {k: v for k, v in fields.items() if k in ("email", "first_name", "last_name") and v is not None}
    if details and _owns_person(provider, identity.user):
        orgs.update_person(actor=SYSTEM, user=identity.user, **details)
    if "external_id" in fields and fields["external_id"] is not None:
        identity.external_id = fields["external_id"]
        identity.save(update_fields=["external_id", "updated_at"])
    return identity


def _owns_person(provider: IdentityProvider, user) -> bool:
    """Does every active role of the person lie inside the provider's subtree (so it may deactivate them)?"""
    return not Membership.objects.filter(user=user, is_active=True).exclude(
        unit__path__startswith=provider.bound_unit.path).exists()


@transaction.atomic
def scim_set_active(*, provider: IdentityProvider, identity: ExternalIdentity, active: bool) -> ExternalIdentity:
    """``active: false`` from the provider: a leaver. When every role of the person lies inside the provider's
    subtree, they are deactivated (sessions and tokens end, their accounts are flagged); otherwise only the roles
    inside that subtree are revoked. ``active: true`` reactivates a person the provider owns."""
    user = identity.user
    if active:
        if not user.is_active and _owns_person(provider, user):
            orgs.reactivate_person(actor=SYSTEM, user=user, check_perm=False)
            scim_sync(provider=provider, identity=identity)
        return identity
    if not user.is_active:
        return identity
    if _owns_person(provider, user):
        orgs.deactivate_person(actor=SYSTEM, user=user, reason=f"deactivated by {provider.name} (SCIM)",
                               check_perm=False)
    else:
        _sync_grants(provider=provider, user=user, rules=[])
    audit.record(actor=SYSTEM, action="sso.scim.user_deactivate", obj=identity,
                 summary=f"{provider.name} deactivated {identity.username} by SCIM")
    return identity


@transaction.atomic
def scim_save_group(*, provider: IdentityProvider, group: ScimGroup | None, display_name: str,
                    external_id: str = "", members: list[ExternalIdentity] | None = None) -> ScimGroup:
    """Create or replace a SCIM group; the roles of the people who joined or left it follow the rules."""
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 255:
        raise exc.DandelionError(_("displayName is required (at most 255 characters)."), field="displayName")
    clash = ScimGroup.objects.filter(provider=provider, display_name=display_name)
    if group is not None:
        clash = clash.exclude(pk=group.pk)
    if clash.exists():
        raise exc.ConflictError(_("The group %(display_name)s exists already.") % {"display_name": display_name})
    before: set[int] = set()
    if group is None:
        group = ScimGroup.objects.create(provider=provider, display_name=display_name, external_id=external_id)
        action = "sso.scim.group_create"
    else:
        before = set(group.members.values_list("pk", flat=True))
        group.display_name, group.external_id = display_name, external_id or group.external_id
        group.save()
        action = "sso.scim.group_update"
    if members is not None:
        group.members.set(members)
    after = set(group.members.values_list("pk", flat=True))
    audit.record(actor=SYSTEM, action=action, obj=group, summary=f"{provider.name}: group {display_name}",
                 changes={"members_added": sorted(after - before), "members_removed": sorted(before - after)})
    for identity in ExternalIdentity.objects.filter(pk__in=before ^ after | (after if action.endswith("create")
                                                                              else set())).select_related("user"):
        scim_sync(provider=provider, identity=identity)
    return group


@transaction.atomic
def scim_change_members(*, provider: IdentityProvider, group: ScimGroup,
                        add: Iterable[ExternalIdentity] = (), remove: Iterable[ExternalIdentity] = ()) -> ScimGroup:
    members = set(group.members.all()) | set(add)
    members -= set(remove)
    return scim_save_group(provider=provider, group=group, display_name=group.display_name,
                           external_id=group.external_id, members=list(members))


@transaction.atomic
def scim_delete_group(*, provider: IdentityProvider, group: ScimGroup) -> None:
    members = list(group.members.select_related("user"))
    audit.record(actor=SYSTEM, action="sso.scim.group_delete", obj=group,
                 summary=f"{provider.name}: deleted group {group.display_name}")
    group.delete()
    for identity in members:
        scim_sync(provider=provider, identity=identity)
