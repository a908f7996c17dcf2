"""Writes of the websites factory: creating a unit's site from a template, deriving its editors from the org tree.

Every write takes a keyword-only ``actor``, checks the permission and writes one audit row. Creating a site is one
transaction: the Wagtail site, its home page and starter pages, the editors' group and its page permissions exist
together or not at all."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from wagtail.models import (
    GroupApprovalTask,
    GroupPagePermission,
    Page,
    Site,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from dandelion.assets.choices import AccountStatus
from dandelion.assets.models import SocialAccount
from dandelion.core import audit
from dandelion.core.actors import SYSTEM
from dandelion.core.exceptions import DandelionError
from dandelion.core.permissions import TEAM_SCOPED_ROLES, require_perm, role_allows
from dandelion.core.plugins import org_tree
from dandelion.orgs.choices import Role, UnitKind
from dandelion.orgs.models import Membership, OrgUnit
from dandelion.sites import blocks, governance
from dandelion.sites.exceptions import HostnameTaken, InvalidSiteData, UnknownTemplate
from dandelion.sites.models import SiteSection, SiteTemplate, UnitSite, WebsitePage

PERM_CREATE = "sites.create_site"  # held by a grant on the root whose role allows it (the hub admins)
PERM_EDIT = "sites.edit_site_pages"  # edit the pages of the sites of the grant's subtree and submit them
PERM_SECTIONS = "sites.grant_site_section"  # give an agency one section of the sites of the grant's subtree
PERM_APPROVE = "sites.approve_site_pages"  # held by a grant on the root: approve (publish) every site's pages
#: Wagtail page permissions the editors of a site hold on its root page (and so on every page below it): no
#: ``publish``; a change goes live when the hub approves it (the site's workflow, ``HUB_WORKFLOW``).
EDITOR_PAGE_PERMISSIONS = ("add", "change", "lock", "unlock")
#: What the hub's approvers hold on every site's root page.
APPROVER_PAGE_PERMISSIONS = ("add", "change", "publish", "lock", "unlock")
HUB_APPROVERS = "Websites: hub approvers"  # the Wagtail group of the hub's approvers (derived, never by hand)
HUB_WORKFLOW = "Websites: hub approval"  # the Wagtail workflow every site's root page follows

HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


# --- reads -------------------------------------------------------------------------------------------------------


def official_accounts(unit: OrgUnit, *, include_parents: bool = True):
    """The registry's active accounts of ``unit`` (and of its parents): what a website lists as official. A
    website's own comments account (``UnitSite.comments_account``, internal: it carries the blog's comments to the
    inbox) is not a social account the public follows: it is left out."""
    units = unit.ancestors(include_self=True) if include_parents else OrgUnit.objects.filter(pk=unit.pk)
    return list(
        SocialAccount.objects.filter(owner_unit__in=units, status=AccountStatus.ACTIVE, owner_unit__is_active=True,
                                     website__isnull=True)
        .select_related("owner_unit").order_by("owner_unit__depth", "network", "handle")
    )


def website_for_page(page, request=None) -> UnitSite | None:
    """The unit site a page belongs to (cached on the request)."""
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        site = page.get_site()
    if site is None:
        return None
    cache = getattr(request, "_dandelion_websites", None) if request is not None else None
    if cache is not None and site.pk in cache:
        return cache[site.pk]
    website = UnitSite.objects.select_related("unit", "template", "site__root_page").filter(site=site).first()
    if request is not None:
        request._dandelion_websites = {**(cache or {}), site.pk: website}
    return website


def site_pages(website: UnitSite):
    """Every page of ``website``, in every locale's tree (its home page's translations), by locale then tree order."""
    from django.db.models import Q

    query = Q()
    for root in website.site.root_page.get_translations(inclusive=True).only("path"):
        query |= Q(path__startswith=root.path)
    return Page.objects.filter(query).select_related("locale", "content_type").order_by("locale_id", "path")


PAGE_STATUSES = ("live", "live + draft", "draft", "in moderation", "expired")


def page_statuses(website: UnitSite, pages) -> list[dict]:
    """``pages`` of ``website`` as plain rows: address, type, locale and status (``PAGE_STATUSES``: in the hub's
    approval, expired, live with a newer draft waiting, live, never published). Three queries for any number."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import WorkflowState

    pages = list(pages)
    roots = {r.locale_id: r for r in
             website.site.root_page.get_translations(inclusive=True).select_related("locale")}
    default_locale = website.site.root_page.locale_id
    moderated = set(WorkflowState.objects.filter(
        base_content_type=ContentType.objects.get_for_model(Page), status=WorkflowState.STATUS_IN_PROGRESS,
        object_id__in=[str(p.pk) for p in pages]).values_list("object_id", flat=True))
    base = website.public_url().rstrip("/")
    rows = []
    for page in pages:
        root = roots.get(page.locale_id)
        prefix = "" if page.locale_id == default_locale or root is None else f"/{root.locale.language_code}"
        below = page.url_path[len(root.url_path):] if root is not None else ""
        path = f"{prefix}/{below}"
        in_moderation = str(page.pk) in moderated
        if in_moderation:
            status = "in moderation"
        elif page.expired:
            status = "expired"
        elif page.live:
            status = "live + draft" if page.has_unpublished_changes else "live"
        else:
            status = "draft"
        rows.append({"id": page.pk, "title": page.title, "slug": page.slug, "type": page.content_type.model,
                     "locale": page.locale.language_code, "path": path, "url": base + path, "status": status,
                     "live": page.live, "has_unpublished_changes": page.has_unpublished_changes,
                     "in_moderation": in_moderation, "owner": page.owner_id,
                     "first_published_at": page.first_published_at, "last_published_at": page.last_published_at})
    return rows


def normalise_hostname(hostname: str) -> str:
    value = (hostname or "").strip().lower().rstrip(".")
    if not HOSTNAME_RE.match(value):
        raise InvalidSiteData(_("%(host)s is not a valid hostname (letters, digits, dashes and dots).")
                              % {"host": repr(hostname)}, field="hostname")
    return value


# --- creating a site ---------------------------------------------------------------------------------------------


def _starter_page(spec: dict, *, slug: str, owner) -> WebsitePage:
    return WebsitePage(title=str(spec["title"])[:255], slug=slug, body=spec.get("body", []),
                       seo_title=str(spec.get("seo_title", ""))[:255], owner=owner)


def create_site(*, actor, unit: OrgUnit, template: SiteTemplate | str, hostname: str, port: int = 80,
                site_name: str = "") -> UnitSite:
    """Create ``unit``'s website on ``hostname`` from ``template``: the Wagtail site, its home page and the
    template's starter pages (published), the editors' group synced from memberships. One transaction."""
    require_perm(actor, PERM_CREATE, org_tree().root_unit())
    hostname = normalise_hostname(hostname)
    if not (0 < int(port) < 65536):
        raise InvalidSiteData(_("The port must be between 1 and 65535."), field="port")
    if isinstance(template, str):
        found = SiteTemplate.objects.filter(name=template.strip(), is_active=True).first()
        if found is None:
            known = list(SiteTemplate.objects.filter(is_active=True).values_list("name", flat=True))
            raise UnknownTemplate(template, known)
        template = found
    elif not template.is_active:
        raise UnknownTemplate(template.name, [])
    if not unit.is_active:
        raise InvalidSiteData(_("%(unit)s is archived: it cannot get a new website.") % {"unit": unit.name},
                              field="unit")
    template.full_clean(exclude=["name"])  # a template edited by hand with a block the pages cannot have
    try:
        with transaction.atomic():
            if Site.objects.filter(hostname=hostname).exists():
                raise HostnameTaken(hostname)
            pages = list(template.starter_pages)
            home_spec = pages[0]
            wagtail_root = Page.get_first_root_node()
            home = _starter_page(home_spec, slug=f"{unit.slug}-{uuid.uuid4().hex[:8]}", owner=_user_or_none(actor))
            wagtail_root.add_child(instance=home)
            home.save_revision(user=_user_or_none(actor)).publish(user=_user_or_none(actor), skip_permission_checks=True)
            for spec in pages[1:]:
                child = _starter_page(spec, slug=spec["slug"], owner=_user_or_none(actor))
                home.add_child(instance=child)
                child.save_revision(user=_user_or_none(actor)).publish(user=_user_or_none(actor), skip_permission_checks=True)
            site = Site.objects.create(hostname=hostname, port=int(port), root_page=home,
                                       site_name=(site_name or f"{unit.name}")[:255], is_default_site=False)
            website = UnitSite.objects.create(unit=unit, site=site, template=template,
                                              template_version=template.version, created_by=_user_or_none(actor))
            audit.record(
                actor=actor, action="sites.site.create", obj=website,
                summary=f"Created the website {hostname} of {unit.name} from {template}",
                changes={"hostname": [None, hostname], "template": [None, template.name],
                         "template_version": [None, template.version], "pages": [None, len(pages)]},
            )
            sync_site_permissions(actor=actor, websites=[website])
    except IntegrityError as exc:  # a concurrent creation took the hostname between the check and the insert
        if Site.objects.filter(hostname=hostname).exists():
            raise HostnameTaken(hostname) from exc
        raise
    return website


def _user_or_none(actor):
    return actor if getattr(actor, "is_authenticated", False) and actor is not SYSTEM else None


# --- editors from the org tree -----------------------------------------------------------------------------------


@dataclass
class SyncResult:
    added: dict[str, list[str]] = field(default_factory=dict)  # hostname -> usernames
    removed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def editor_roles() -> list[str]:
    return [r for r in Role.values if r not in TEAM_SCOPED_ROLES and role_allows(r, PERM_EDIT)]


def derived_editor_ids(unit: OrgUnit) -> set[int]:
    """The people who edit ``unit``'s websites: an active membership, with a role allowing it, on the unit or one
    of its parents (a grant covers its subtree; the hub's covers every site)."""
    ancestor_ids = [int(p) for p in unit.path.strip("/").split("/") if p]
    return set(
        Membership.objects.filter(unit_id__in=ancestor_ids, role__in=editor_roles(), is_active=True,
                                  user__is_active=True).values_list("user_id", flat=True)
    )


def derived_agency_editor_ids(agency: OrgUnit) -> set[int]:
    """The people who edit an agency's sections: an active membership, with a role allowing ``PERM_EDIT``, on the
    agency unit or one of its own sub-units (never its parents: the hub's people edit through the sites' groups)."""
    if not agency.is_active:
        return set()
    return set(
        Membership.objects.filter(unit__path__startswith=agency.path, unit__is_active=True, role__in=editor_roles(),
                                  is_active=True, user__is_active=True).values_list("user_id", flat=True)
    )


def derived_approver_ids() -> set[int]:
    """The hub's approvers: an active membership on the root unit whose role allows ``PERM_APPROVE``."""
    roles = [r for r in Role.values if r not in TEAM_SCOPED_ROLES and role_allows(r, PERM_APPROVE)]
    return set(
        Membership.objects.filter(unit=org_tree().root_unit(), role__in=roles, is_active=True,
                                  user__is_active=True).values_list("user_id", flat=True)
    )


def hub_workflow() -> tuple[Group, Workflow]:
    """The hub's approvers' group and the workflow (one group-approval task) every website follows: a spoke's
    editor submits a page, the hub approves it and so publishes it, or asks for changes. Made once, idempotent."""
    group, _created = Group.objects.get_or_create(name=HUB_APPROVERS)
    task = GroupApprovalTask.objects.filter(name=HUB_APPROVERS).first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=HUB_APPROVERS)
    task.groups.add(group)
    workflow, _created = Workflow.objects.get_or_create(name=HUB_WORKFLOW, defaults={"active": True})
    if not workflow.active:
        workflow.active = True
        workflow.save(update_fields=["active"])
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task.task_ptr, defaults={"sort_order": 0})
    return group, workflow


def _sync_page_permissions(group: Group, page, perms) -> None:
    """``group`` holds exactly ``perms`` on ``page`` (one it held beyond them, such as ``publish``, is taken)."""
    have = set(GroupPagePermission.objects.filter(group=group, page=page).values_list("permission__codename",
                                                                                      flat=True))
    want = {f"{perm}_page" for perm in perms}
    for perm in perms:
        if f"{perm}_page" not in have:
            GroupPagePermission.objects.create(group=group, page=page, permission_type=perm)
    if have - want:
        GroupPagePermission.objects.filter(group=group, page=page, permission__codename__in=have - want).delete()


def _admin_access() -> Permission:
    return Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")


@transaction.atomic
def sync_site_permissions(*, actor, websites=None) -> SyncResult:
    """Make each website's editors' group (its Wagtail page permissions on the site's root page, and its members)
    what the org tree says; people added or removed by hand are put back. One audit row per site that changed."""
    if websites is None:  # every site: the hub's action (create_site syncs the one it made)
        require_perm(actor, PERM_CREATE, org_tree().root_unit())
    result = SyncResult()
    rows = websites if websites is not None else UnitSite.objects.select_related("unit", "site__root_page", "editors")
    access = _admin_access()
    User = get_user_model()
    approvers, workflow = hub_workflow()
    approvers.permissions.add(access)
    _sync_group_members(actor, approvers, derived_approver_ids(), label="hub approvers", obj=None)
    for website in rows:
        group = website.editors
        if group is None:
            group, _created = Group.objects.get_or_create(name=f"Website {website.site.hostname} editors")
            website.editors = group
            website.save(update_fields=["editors", "updated_at"])
        group.permissions.add(access)
        for root in website.site.root_page.get_translations(inclusive=True):  # every locale's tree of the site
            _sync_page_permissions(group, root, EDITOR_PAGE_PERMISSIONS)
            _sync_page_permissions(approvers, root, APPROVER_PAGE_PERMISSIONS)
            WorkflowPage.objects.update_or_create(page=root, defaults={"workflow": workflow})
        _sync_sections(actor, website, access, result)
        want = derived_editor_ids(website.unit)
        current = set(group.user_set.values_list("id", flat=True))
        add, remove = want - current, current - want
        if not add and not remove:
            continue
        group.user_set.add(*add)
        group.user_set.remove(*remove)
        names = dict(User.objects.filter(pk__in=add | remove).values_list("pk", User.USERNAME_FIELD))
        added, removed = sorted(names[i] for i in add), sorted(names[i] for i in remove)
        if added:
            result.added[website.site.hostname] = added
        if removed:
            result.removed[website.site.hostname] = removed
        audit.record(
            actor=actor, action="sites.editors.sync", obj=website,
            summary=f"Editors of {website.site.hostname}: +{len(added)} -{len(removed)}",
            changes={"added": [None, added], "removed": [None, removed]},
        )
    return result


def _section_group_name(section: SiteSection) -> str:
    return f"Website {section.website.site.hostname} section {section.page_id} ({section.agency.slug}) editors"


def _sync_sections(actor, website: UnitSite, access: Permission, result: SyncResult) -> None:
    """Each agency section of ``website``: its group holds the editors' page permissions on the section's page (in
    every locale) and nothing else, and its members are the agency's editors."""
    for section in website.sections.select_related("agency", "page", "editors"):
        group = section.editors
        if group is None:
            group, _created = Group.objects.get_or_create(name=_section_group_name(section))
            section.editors = group
            section.save(update_fields=["editors", "updated_at"])
        group.permissions.add(access)
        roots = list(section.page.get_translations(inclusive=True))
        GroupPagePermission.objects.filter(group=group).exclude(page__in=roots).delete()  # a hand-made grant
        for root in roots:
            _sync_page_permissions(group, root, EDITOR_PAGE_PERMISSIONS)
        added, removed = _sync_group_members(actor, group, derived_agency_editor_ids(section.agency),
                                             label=f"{section.agency.slug} section editors", obj=website,
                                             action="sites.section.sync")
        key = f"{website.site.hostname} [{section.agency.slug}]"
        if added:
            result.added[key] = added
        if removed:
            result.removed[key] = removed


def _sync_group_members(actor, group: Group, want: set[int], *, label: str, obj,
                        action: str = "sites.approvers.sync") -> tuple[list[str], list[str]]:
    """``group``'s members become ``want``; one audit row when that changed anything. The usernames added and
    removed."""
    current = set(group.user_set.values_list("id", flat=True))
    add, remove = want - current, current - want
    if not add and not remove:
        return [], []
    group.user_set.add(*add)
    group.user_set.remove(*remove)
    User = get_user_model()
    names = dict(User.objects.filter(pk__in=add | remove).values_list("pk", User.USERNAME_FIELD))
    added, removed = sorted(names[i] for i in add), sorted(names[i] for i in remove)
    audit.record(actor=actor, action=action, obj=obj, summary=f"Websites' {label}: +{len(add)} -{len(remove)}",
                 changes={"added": [None, added], "removed": [None, removed]})
    return added, removed


# --- agencies: one section (a subtree of pages) of a unit's website ----------------------------------------------


def _section_page(website: UnitSite, page) -> Page:
    """``page`` as a section of ``website``: a page below the site's home page (in any of its locales)."""
    page = page if isinstance(page, Page) else Page.objects.filter(pk=page).first()
    roots = list(website.site.root_page.get_translations(inclusive=True))
    if page is None or not any(page.path.startswith(root.path) and page.depth > root.depth for root in roots):
        raise InvalidSiteData(_("A section is a page below the home page of %(host)s.")
                              % {"host": website.site.hostname}, field="page")
    return page  # its translations are in the section too (the sync grants on every locale's copy)


@transaction.atomic
def grant_section(*, actor, website: UnitSite, page, agency: OrgUnit) -> SiteSection:
    """Give ``agency`` (an org unit of kind agency) the edit rights on ``page`` and every page below it of
    ``website``, and nothing else of the site: the site's unit's admins or the hub choose. An agency holds one
    section per site; granting another page moves it. One audit row; the Wagtail permissions follow at once."""
    require_perm(actor, PERM_SECTIONS, website.unit)
    if agency.kind != UnitKind.AGENCY or not agency.is_active:
        raise InvalidSiteData(_("%(unit)s is not an active agency.") % {"unit": agency}, field="agency")
    page = _section_page(website, page)
    section = SiteSection.objects.filter(website=website, agency=agency).select_related("page").first()
    before = section.page.title if section else None
    if section is None:
        section = SiteSection.objects.create(website=website, page=page, agency=agency,
                                             granted_by=_user_or_none(actor))
    elif section.page_id != page.pk:
        section.page, section.granted_by = page, _user_or_none(actor)
        section.save(update_fields=["page", "granted_by", "updated_at"])
        if section.editors_id:  # the group's grants on the old page go; the sync gives the new ones
            GroupPagePermission.objects.filter(group_id=section.editors_id).delete()
    else:
        return section
    audit.record(actor=actor, action="sites.section.grant", obj=website,
                 summary=f"{agency} edits the section {page.title} of {website.site.hostname}",
                 changes={"agency": [None, agency.slug], "section": [before, page.title]})
    sync_site_permissions(actor=actor, websites=[website])
    section.refresh_from_db()
    return section


@transaction.atomic
def revoke_section(*, actor, section: SiteSection) -> None:
    """Take an agency's section back: its group and page permissions go with it. One audit row."""
    website = section.website
    require_perm(actor, PERM_SECTIONS, website.unit)
    group_id = section.editors_id
    audit.record(actor=actor, action="sites.section.revoke", obj=website,
                 summary=f"{section.agency} no longer edits the section {section.page.title} of "
                         f"{website.site.hostname}",
                 changes={"agency": [section.agency.slug, None], "section": [section.page.title, None]})
    section.delete()
    if group_id:
        Group.objects.filter(pk=group_id).delete()


# --- governance: the template's must-show pages and blocks, the hub's guideline checks ----------------------------


def website_of_path(path: str) -> UnitSite | None:
    """The unit site whose home page is ``path``'s ancestor at depth 2 (every site's home page is a child of
    Wagtail's root: ``create_site``), or None for a page outside the websites."""
    home_path = path[: 2 * Page.steplen]
    if len(home_path) < 2 * Page.steplen:
        return None
    # the home page of a site, or a translation of it (another locale's tree: ``add_site_locale``)
    homes = Page.objects.filter(path=home_path).values("translation_key")
    return (UnitSite.objects.select_related("unit", "template", "site__root_page")
            .filter(site__root_page__translation_key__in=homes).first())


def rule_key(website: UnitSite, *, page_id: int | None, parent_id: int | None, slug: str) -> str | None:
    """Which of the template's pages ``page`` is: ``governance.HOME``, a slug just below the home page, or None."""
    if page_id is not None and page_id == website.site.root_page_id:
        return governance.HOME
    if parent_id is not None and parent_id == website.site.root_page_id:
        return slug
    return None


def page_problems(*, website: UnitSite, key: str | None, title: str, body_types: list[str], body_raw,
                  new_slug: str | None = None) -> list[tuple[str, str]]:
    """What stops a page of ``website`` from being saved: ``[(field, message)]`` (empty when it may be).

    The template's must-show blocks and pages, the hub's blocking guideline rules for the site's unit (the
    publishing app's checks on every text of the page) and headings that skip a level."""
    from dandelion.publishing import checks
    from dandelion.publishing.services import rules_for

    problems: list[tuple[str, str]] = []
    rule = governance.page_rules(website.template.starter_pages).get(key) if key is not None else None
    missing = governance.missing_blocks(body_types, rule)
    if missing:
        problems.append(("body", _("The hub's template requires this page to show: %(blocks)s.")
                         % {"blocks": ", ".join(missing)}))
    if rule is not None and rule.slug != governance.HOME and rule.required and new_slug and new_slug != rule.slug:
        problems.append(("slug", _("This page is required by the hub's template: its address stays /%(slug)s/.")
                         % {"slug": rule.slug}))
    texts = [title, *(governance.plain_text(t) for t in governance.texts_of(body_raw))]
    alt_texts = blocks.alt_texts(body_raw)
    rules = rules_for(website.unit)
    seen = set()
    for n, text in enumerate(texts):  # each text on its own: a finding names no "variant"
        if not text and n:
            continue
        target = checks.CheckTarget(variants=[checks.VariantText(account_id=0, network="website",
                                                                 label=website.hostname, text=text)],
                                    alt_texts=alt_texts if n == 0 else ())  # the images' once, with the title
        for result in checks.blocking(checks.run_checks(target, rules)):
            if result.kind == "length" or result.message in seen:  # a web page has no network's length limit
                continue
            seen.add(result.message)
            problems.append(("title" if n == 0 and result.kind != "alt_text" else "body",
                             _("Guideline check %(rule)s: %(message)s") % {"rule": result.rule,
                                                                           "message": result.message}))
    for text in governance.texts_of(body_raw):
        for message in governance.heading_problems(text):
            problems.append(("body", message))
    return problems


def protected_page_reason(page) -> str | None:
    """Why ``page`` may not be deleted, unpublished or moved (a page the template requires), or None."""
    website = website_of_path(page.path)
    if website is None:
        return None
    key = rule_key(website, page_id=page.pk, parent_id=page.get_parent().pk if page.depth > 1 else None,
                   slug=page.slug)
    rule = governance.page_rules(website.template.starter_pages).get(key) if key is not None else None
    if rule is None or not rule.required:
        return None
    return str(_("“%(title)s” is required by the hub's template %(template)s: it stays on %(host)s.")
               % {"title": page.title, "template": website.template.name, "host": website.hostname})


# --- the consistency report across sites ------------------------------------------------------------------------


@dataclass
class SiteReport:
    """One site's gaps against its template and the organisation."""

    website: UnitSite
    current_version: int
    missing_pages: list[str] = field(default_factory=list)
    missing_blocks: list[tuple[str, list[str]]] = field(default_factory=list)  # (page title, blocks)
    pages_without_owner: list[str] = field(default_factory=list)
    unit_archived: bool = False
    broken_links: int = 0  # found by the site's last link check (``links_checked_at``; None: never checked)

    @property
    def outdated(self) -> bool:
        return self.website.template_version < self.current_version

    @property
    def ok(self) -> bool:
        return not (self.outdated or self.missing_pages or self.missing_blocks or self.pages_without_owner
                    or self.unit_archived or self.broken_links)


def consistency_report(*, user) -> list[SiteReport]:
    """Every site ``user`` may see, with what differs from its template: an older template version, required
    pages missing, must-show blocks removed, pages nobody owns, sites whose unit was archived, and the broken
    links the site's last link check found."""
    from django.db.models import Count

    websites = list(UnitSite.objects.restrict(user, "view").annotate(broken_count=Count("broken_links"))
                    .select_related("unit", "template", "site__root_page").order_by("site__hostname"))
    reports = []
    for website in websites:
        home = website.site.root_page
        rules = governance.page_rules(website.template.starter_pages)
        report = SiteReport(website=website, current_version=website.template.version,
                            unit_archived=not website.unit.is_active, broken_links=website.broken_count)
        pages = list(WebsitePage.objects.filter(path__startswith=home.path).only(
            "id", "title", "slug", "depth", "live", "owner_id", "body", "path"))
        children = [p for p in pages if p.depth == home.depth + 1]
        report.missing_pages = governance.missing_pages([p.slug for p in children if p.live], rules)
        for page in pages:
            key = governance.HOME if page.pk == home.pk else (page.slug if page.depth == home.depth + 1 else None)
            missing = governance.missing_blocks([b.block_type for b in page.body], rules.get(key)) \
                if key is not None else []
            if missing:
                report.missing_blocks.append((page.title, missing))
            if page.owner_id is None:
                report.pages_without_owner.append(page.title)
        reports.append(report)
    return reports


# --- the crisis room's banner on every site of a subtree ----------------------------------------------------------

CRISIS_LEVELS = ("info", "warning", "critical")


def push_crisis_banner(*, actor, unit: OrgUnit, message: str, level: str = "warning", url: str = "") -> list[UnitSite]:
    """Put ``message`` at the top of the home page of every website of ``unit``'s subtree, published at once (one
    transaction, one audit row per site); an earlier banner is replaced. An empty message takes the banner down."""
    require_perm(actor, PERM_EDIT, unit)
    message = (message or "").strip()
    if len(message) > 300:
        raise InvalidSiteData(_("A crisis banner holds at most 300 characters."), field="message")
    if level not in CRISIS_LEVELS:
        raise InvalidSiteData(_("The level must be one of %(levels)s.") % {"levels": ", ".join(CRISIS_LEVELS)},
                              field="level")
    if url and not url.startswith("https://"):
        raise InvalidSiteData(_("The banner's link must be an https:// address."), field="url")
    user = _user_or_none(actor)
    websites = list(UnitSite.objects.filter(unit__path__startswith=unit.path, unit__is_active=True)
                    .select_related("unit", "site__root_page").order_by("site__hostname"))
    with transaction.atomic():
        for website in websites:
            home = website.site.root_page.specific
            body = [dict(block) for block in home.body.raw_data if block["type"] != "crisis_banner"]
            if message:
                body.insert(0, {"type": "crisis_banner", "value": {"message": message, "level": level, "url": url}})
            home.body = body
            home.save_revision(user=user).publish(user=user, skip_permission_checks=True)
            audit.record(actor=actor, action="sites.crisis_banner.push" if message else "sites.crisis_banner.clear",
                         obj=website, summary=f"Crisis banner on {website.hostname}: {message or '(removed)'}",
                         changes={"message": [None, message], "level": [None, level]})
    return websites


# --- multilingual sites ------------------------------------------------------------------------------------------


def content_languages() -> dict[str, str]:
    from django.conf import settings

    return dict(getattr(settings, "WAGTAIL_CONTENT_LANGUAGES", settings.LANGUAGES))


def site_locales(website: UnitSite) -> list[str]:
    """The language codes ``website`` is written in (its home page's translations), the default first."""
    root = website.site.root_page
    return [root.locale.language_code] + sorted(
        root.get_translations().values_list("locale__language_code", flat=True))


@transaction.atomic
def add_site_locale(*, actor, website: UnitSite, language: str) -> list:
    """Add ``language`` to ``website``: every live page of the site is copied into that locale with Wagtail's
    ``copy_for_translation`` (same translation keys, the parents' translations as parents) and published, as the
    hub approved the originals; the editors' and approvers' permissions and the workflow then cover the new tree.
    Served under ``/<language>/``; each page lists its translations (language switcher, ``hreflang``)."""
    from wagtail.models import Locale

    require_perm(actor, PERM_EDIT, website.unit)
    languages = content_languages()
    if language not in languages:
        raise InvalidSiteData(_("%(code)s is not one of the websites' languages (%(known)s).")
                              % {"code": repr(language), "known": ", ".join(languages)}, field="language")
    if language in site_locales(website):
        raise InvalidSiteData(_("The website is already written in %(code)s.") % {"code": language},
                              field="language")
    locale, _created = Locale.objects.get_or_create(language_code=language)
    root = website.site.root_page
    copies = []
    for page in [root, *root.get_descendants().live().order_by("path")]:
        page = page.specific
        copy = page.copy_for_translation(locale, copy_parents=False, alias=False)
        copy.save_revision(user=None).publish(skip_permission_checks=True)
        copies.append(copy)
    sync_site_permissions(actor=SYSTEM, websites=[website])
    transaction.on_commit(Site.clear_site_root_paths_cache)  # the new locale's root is one of the site's roots
    Site.clear_site_root_paths_cache()
    audit.record(actor=actor, action="sites.locale.add", obj=website,
                 summary=f"{website.hostname} in {language}: {len(copies)} pages",
                 changes={"locales": [None, site_locales(website)]})
    return copies


def page_alternates(page, request) -> list[dict]:
    """The live translations of ``page`` (itself included): language code, name in that language, absolute
    address; what the language switcher and the ``hreflang`` links show. Empty for a page in one language only."""
    from django.utils.translation import get_language_info

    pages = list(page.get_translations(inclusive=True).live().select_related("locale").order_by("locale__pk"))
    if len(pages) < 2:
        return []
    out = []
    for other in pages:
        code = other.locale.language_code
        url = other.get_url(request)
        if url is None:
            continue
        out.append({"code": code, "name": get_language_info(code)["name_local"], "current": other.pk == page.pk,
                    "url": request.build_absolute_uri(url) if request is not None else url})
    return out


# --- the web and social media: a published page offered as a social post ---------------------------------------


def page_public_url(website: UnitSite, page) -> str:
    """``page``'s address on its website's hostname (its path below the site's home page)."""
    return website.public_url() + page.url_path[len(website.site.root_page.url_path):]


def share_draft(*, actor, page, accounts=None, summary: str = "") -> object:
    """A publishing draft announcing ``page`` (its title, ``summary`` and address) on ``accounts`` (default: the
    active official accounts of its site's unit), written by ``actor`` through the publishing app's service (its
    permissions, checks and audit apply). Each account's link carries UTM tags naming its network."""
    from dandelion.publishing.services import create_post

    website = website_of_path(page.path)
    if website is None:
        raise InvalidSiteData(_("This page belongs to no unit's website."), field="page")
    official = official_accounts(website.unit, include_parents=False)
    if accounts is None:
        accounts = official
    else:
        allowed = {a.pk for a in official}
        accounts = [a for a in accounts if a.pk in allowed]
    if not accounts:
        raise InvalidSiteData(_("%(unit)s has no active official account to announce the page on.")
                              % {"unit": website.unit.name}, field="page")
    url = page_public_url(website, page)
    summary = " ".join((summary or "").split())[:200]

    def text_for(network: str) -> str:
        tagged = f"{url}?{urlencode({'utm_source': network, 'utm_medium': 'social', 'utm_campaign': 'website'})}"
        return "\n".join(part for part in (page.title, summary, tagged) if part)

    return create_post(actor=actor, unit=website.unit, text=text_for("social"), accounts=accounts,
                       variant_texts={a.pk: text_for(a.network) for a in accounts},
                       title=str(_("Web page: %(title)s") % {"title": page.title})[:200])


def _untick_share(page, revision_id: int) -> None:
    """Once announced, the page's box is unticked (its live row and its revisions from the announced one on, which
    the editor's form loads): a later publication, a crisis banner's included, announces nothing unless asked."""
    from wagtail.models import Revision

    type(page).objects.filter(pk=page.pk).update(share_on_publish=False)
    for revision in Revision.page_revisions.filter(object_id=str(page.pk), pk__gte=revision_id):
        if revision.content.get("share_on_publish"):
            revision.content["share_on_publish"] = False
            revision.save(update_fields=["content"])


def share_published_page(*, actor, page_id: int, revision_id: int):
    """The announcement a page's editor asked for (``ShareOnPublish``), once its revision is live: a publishing
    draft for the chosen accounts, submitted to the hub's approval workflow. One per revision (run twice, nothing
    more); a draft that cannot be made (no account left, the publishing app's checks) is recorded with its reason
    (``PageShare.error``), never raised: the page stays published. Then the box is unticked. One audit row."""
    from dandelion.publishing.services import submit_post
    from dandelion.sites.models import PageShare

    page = Page.objects.filter(pk=page_id).first()
    page = page.specific if page is not None else None
    if page is None or not getattr(page, "share_on_publish", False) or not page.live:
        return None
    website = website_of_path(page.path)
    if website is None:
        return None
    with transaction.atomic():
        share, created = PageShare.objects.get_or_create(page_id=page_id, revision_id=revision_id,
                                                         defaults={"website": website})
        if not created:
            return share
        try:
            with transaction.atomic():
                post = share_draft(actor=actor, page=page, accounts=list(page.share_accounts.all()),
                                   summary=page.search_description)
                share.post = submit_post(post, actor=actor)
        except DandelionError as exc:  # the publishing app's refusals, a permission, no account left
            share.error = str(exc)[:500]
        share.save(update_fields=["post", "error"])
        _untick_share(page, revision_id)
        audit.record(actor=actor, action="sites.page.share", obj=share,
                     summary=(f"Announced {page.title} ({website.hostname}) as post {share.post_id}" if share.post
                              else f"Could not announce {page.title} ({website.hostname}): {share.error}"),
                     changes={"post": [None, share.post_id], "error": [None, share.error]})
    return share


# --- the broken-link check ---------------------------------------------------------------------------------------


def check_site_links(*, actor, website: UnitSite, checker=None, http=None) -> list:
    """Check every link of ``website``'s live pages (``linkcheck``) and replace the site's findings with this run's
    (idempotent: run twice, the same rows; killed mid-way, the last complete run's rows stay). One audit row.
    External addresses are asked by ``linkcheck.HttpChecker`` (HEAD, 5 s timeout, 8 at once and 2 per host,
    robots.txt minded; ``http``: another one), or by ``checker`` when given (a function from an address to a reason
    or None)."""
    from django.utils import timezone

    from dandelion.sites import linkcheck
    from dandelion.sites.models import BrokenLink

    require_perm(actor, PERM_EDIT, website.unit)
    home = website.site.root_page
    pages = list(WebsitePage.objects.live().filter(path__startswith=home.path).only("id", "body", "url_path",
                                                                                     "path", "depth"))
    prefix = home.url_path  # a page's path on the site: its url_path below the home page's
    live_paths = {"/" + p.url_path[len(prefix):] for p in pages}
    findings = linkcheck.find_broken(((p.pk, p.body.raw_data) for p in pages), hostname=website.hostname,
                                     live_paths=live_paths, checker=checker,
                                     http=None if checker is not None else (http or linkcheck.HttpChecker()))
    now = timezone.now()
    with transaction.atomic():
        UnitSite.objects.filter(pk=website.pk).update(links_checked_at=now)
        website.links_checked_at = now
        BrokenLink.objects.filter(website=website).delete()
        BrokenLink.objects.bulk_create([
            BrokenLink(website=website, page_id=f.page_id, url=f.url[:2000], reason=f.reason[:200], found_at=now,
                       status=f.status, kind=f.kind)
            for f in findings
        ])
        audit.record(actor=actor, action="sites.links.check", obj=website,
                     summary=f"Link check of {website.hostname}: {len(findings)} broken of {len(pages)} pages",
                     changes={"broken": [None, len(findings)], "pages": [None, len(pages)]})
    return findings
