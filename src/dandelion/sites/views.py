"""The websites' pages in Dandelion (the list of sites, creating one) and the design tokens each site is served.

Reads go through ``restrict()``; creating a site goes through ``services.create_site`` (the hub's action)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods
from wagtail.models import Site

from dandelion.core.permissions import has_perm
from dandelion.core.plugins import org_tree
from dandelion.core.view_helpers import call_service, confirm_then_act, paginate, require
from dandelion.sites import services
from dandelion.sites.forms import CrisisBannerForm, SectionForm, SiteCreateForm
from dandelion.sites.models import COLOUR_TOKENS, PageShare, UnitSite, WebsitePage


def _can_create(user) -> bool:
    return has_perm(user, services.PERM_CREATE, org_tree().root_unit())


@login_required
@require_GET
def site_list(request):
    from django.db.models import Count

    qs = (UnitSite.objects.restrict(request.user, "view").select_related("unit", "site", "template")
          .annotate(broken_count=Count("broken_links")).order_by("site__hostname"))
    page = paginate(request, qs)
    return render(request, "sites/site_list.html", {"page": page, "can_create": _can_create(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def site_create(request):
    require(request.user, services.PERM_CREATE, org_tree().root_unit(),
            message=_("Only the hub creates websites."))
    form = SiteCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        website, ok = call_service(request, services.create_site, unit=data["unit"], template=data["template"],
                                   hostname=data["hostname"], site_name=data["site_name"], form=form)
        if ok:
            messages.success(request, _("The website %(host)s was created.") % {"host": website.hostname})
            return redirect("sites:site-list")
    return render(request, "sites/site_form.html", {"form": form})


@login_required
@require_GET
def consistency_report(request):
    """Every site the user may see against its template and the organisation (``services.consistency_report``)."""
    reports = services.consistency_report(user=request.user)
    return render(request, "sites/report.html",
                  {"reports": reports, "problems": sum(1 for r in reports if not r.ok)})


# --- agencies' sections ------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def site_sections(request, pk: int):
    """The agencies' sections of one website, and (for its unit's admins and the hub) the form giving one."""
    from dandelion.sites.models import SiteSection

    website = get_object_or_404(UnitSite.objects.restrict(request.user, "view").select_related("unit", "site"),
                                pk=pk)
    can_grant = has_perm(request.user, services.PERM_SECTIONS, website.unit)
    form = SectionForm(request.POST or None, website=website) if can_grant else None
    if request.method == "POST":
        require(request.user, services.PERM_SECTIONS, website.unit,
                message=_("Only the admins of %(unit)s and the hub give sections of its websites.")
                % {"unit": website.unit})
        if form is not None and form.is_valid():
            section, ok = call_service(request, services.grant_section, website=website,
                                       page=form.cleaned_data["page"], agency=form.cleaned_data["agency"], form=form)
            if ok:
                messages.success(request, _("%(agency)s now edits the section %(page)s.")
                                 % {"agency": section.agency, "page": section.page.title})
                return redirect("sites:sections", pk=website.pk)
    sections = (SiteSection.objects.filter(website=website).select_related("agency", "page", "granted_by")
                .prefetch_related("editors__user_set"))
    return render(request, "sites/site_sections.html",
                  {"website": website, "sections": sections, "form": form, "can_grant": can_grant})


@login_required
@require_http_methods(["GET", "POST"])
def section_revoke(request, pk: int):
    from dandelion.sites.models import SiteSection

    section = get_object_or_404(SiteSection.objects.restrict(request.user, services.PERM_SECTIONS)
                                .select_related("website__unit", "website__site", "agency", "page"), pk=pk)
    require(request.user, services.PERM_SECTIONS, section.website.unit,
            message=_("Only the admins of %(unit)s and the hub give sections of its websites.")
            % {"unit": section.website.unit})
    back = reverse("sites:sections", args=[section.website_id])

    def act():
        call_service(request, services.revoke_section, section=section)
        messages.success(request, _("%(agency)s no longer edits %(page)s.")
                         % {"agency": section.agency, "page": section.page.title})
        return redirect(back)

    return confirm_then_act(
        request, act=act, cancel_url=back, title=_("Take the section back"),
        question=_("%(agency)s will no longer edit %(page)s and the pages below it on %(host)s.")
        % {"agency": section.agency, "page": section.page.title, "host": section.website.hostname})


# --- the crisis room's banner (a panel the room includes: apps.SitesConfig.incident_page) ---------------------------


def _banner_sites(unit):
    return (UnitSite.objects.filter(unit__path__startswith=unit.path, unit__is_active=True)
            .select_related("site").order_by("site__hostname"))


def incident_panel(user, incident) -> dict:
    """The crisis room's "banner on our websites" panel: how many sites of the incident's unit and below will show
    it, and the form for those who may push it (``sites.edit_site_pages`` on the unit) while the room is open."""
    websites = list(_banner_sites(incident.unit))
    can_push = bool(websites) and not incident.is_closed and has_perm(user, services.PERM_EDIT, incident.unit)
    if not can_push:
        return {}
    return {"incident_panels": ["sites/partials/_crisis_banner_panel.html"], "banner_websites": websites,
            "banner_form": CrisisBannerForm(), "banner_next": incident.get_absolute_url()}


@login_required
@require_http_methods(["POST"])
def crisis_banner(request, unit_id: int):
    """Push the banner on every website of the unit and below: a first POST shows the confirmation (which sites,
    how many), the confirmed POST calls ``services.push_crisis_banner`` and goes back to the room."""
    from django.utils.http import url_has_allowed_host_and_scheme

    from dandelion.orgs.models import OrgUnit

    unit = get_object_or_404(OrgUnit.objects.restrict(request.user, "view"), pk=unit_id)
    require(request.user, services.PERM_EDIT, unit, message=_("The websites of %(unit)s are not yours to edit.")
            % {"unit": unit})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        back = unit.get_absolute_url()
    form = CrisisBannerForm(request.POST)
    websites = list(_banner_sites(unit))
    if form.is_valid() and form.cleaned_data["confirm"]:
        data = form.cleaned_data
        done, ok = call_service(request, services.push_crisis_banner, unit=unit, message=data["message"],
                                level=data["level"], url=data["url"])
        if ok:
            if data["message"]:
                messages.success(request, ngettext("The banner now shows on %(n)s website.",
                                                   "The banner now shows on %(n)s websites.", len(done))
                                 % {"n": len(done)})
            else:
                messages.success(request, ngettext("The banner was taken down from %(n)s website.",
                                                   "The banner was taken down from %(n)s websites.", len(done))
                                 % {"n": len(done)})
            return redirect(back)
    elif form.is_valid():
        return render(request, "sites/crisis_banner_confirm.html",
                      {"form": form, "unit": unit, "websites": websites, "next": back})
    return render(request, "sites/crisis_banner_confirm.html",
                  {"form": form, "unit": unit, "websites": websites, "next": back, "invalid": True})


@login_required
@require_http_methods(["GET", "POST"])
def site_links(request, pk: int):
    """The broken links of one website (its last check), and a button to check again (the job, enqueued)."""
    from dandelion.core.jobs import enqueue_on_commit
    from dandelion.sites import jobs
    from dandelion.sites.models import BrokenLink

    website = get_object_or_404(UnitSite.objects.restrict(request.user, "view")
                                .select_related("unit", "site__root_page"), pk=pk)
    can_check = has_perm(request.user, services.PERM_EDIT, website.unit)
    if request.method == "POST":
        require(request.user, services.PERM_EDIT, website.unit, message=_("This website is not yours to edit."))
        enqueue_on_commit(jobs.check_site_links, website.pk)
        messages.success(request, _("The links of %(host)s are being checked.") % {"host": website.hostname})
        return redirect("sites:links", pk=website.pk)
    links = BrokenLink.objects.filter(website=website).select_related("page").order_by("page__path", "url")
    return render(request, "sites/site_links.html", {"website": website, "links": links, "can_check": can_check})


@login_required
@require_http_methods(["GET", "POST"])
def share_page(request, page_id: int):
    """Offer a published website page as a social post draft for its unit's accounts (``services.share_draft``)."""
    page = get_object_or_404(WebsitePage, pk=page_id, live=True)
    website = services.website_of_path(page.path)
    if website is None:
        raise Http404
    require(request.user, services.PERM_EDIT, website.unit, message=_("This website is not yours to edit."))
    if request.method == "POST":
        post, ok = call_service(request, services.share_draft, page=page)
        if ok:
            messages.success(request, _("A social post draft announces the page."))
            return redirect(post.get_absolute_url())
    accounts = services.official_accounts(website.unit, include_parents=False)
    shares = PageShare.objects.restrict(request.user, "view").filter(page=page).select_related("post")[:20]
    return render(request, "sites/share_page.html", {"page": page, "website": website, "accounts": accounts,
                                                     "url": services.page_public_url(website, page),
                                                     "shares": shares})


@require_GET
def tokens_css(request):
    """The design tokens of the website the request's hostname is, as CSS custom properties (validated data)."""
    site = Site.find_for_request(request)
    website = UnitSite.objects.select_related("template").filter(site=site).first() if site else None
    if website is None:
        raise Http404
    tokens = website.template.design_tokens()
    names = {"primary": "--site-primary", "accent": "--site-accent", "background": "--site-background",
             "text": "--site-text"}
    lines = [f"  {names[key]}: {tokens[key]};" for key in COLOUR_TOKENS]
    lines.append(f"  --site-font: {tokens['font_family']};")
    css = ":root {\n" + "\n".join(lines) + "\n}\n"
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


def website_not_found(request, exception=None):
    """A website's 404 (its hostname is no unit's site, or no page has that path): a plain page, not Dandelion's."""
    return render(request, "sites/website_status.html",
                  {"status": 404, "message": _("This page does not exist.")}, status=404)


def website_error(request):
    return render(request, "sites/website_status.html",
                  {"status": 500, "message": _("Something went wrong on our side.")}, status=500)


#: A visitor may post this many comments on one website per ``COMMENT_WINDOW_S`` seconds (by address).
COMMENT_RATE = 5
COMMENT_WINDOW_S = 600


def _comment_rate_exceeded(request, website_id: int) -> bool:
    """Count this address's comments on the site in a fixed window (the cache; bounded, no table grows)."""
    from django.core.cache import cache

    ip = request.META.get("REMOTE_ADDR", "") or "unknown"
    key = f"sites:comment-rate:{website_id}:{ip}"
    cache.add(key, 0, COMMENT_WINDOW_S)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, COMMENT_WINDOW_S)
        count = 1
    return count > COMMENT_RATE


def post_blog_comment(request, post):
    """A visitor's comment form posted to a blog post (``BlogPostPage.serve``): validated, rate-limited by
    address, a bot filling the honeypot is answered like a person and nothing is kept; redirects to the comments
    (post/redirect/get) or shows the post again with the errors (400, or 429 when over the rate)."""
    from dandelion.sites import blog
    from dandelion.sites.forms import BlogCommentForm

    form = BlogCommentForm(request.POST)
    status = 400
    if form.is_valid():
        if form.is_bot:
            return redirect(f"{post.get_url(request)}?commented=1#comments")
        website = services.website_of_path(post.path)
        if website is not None and _comment_rate_exceeded(request, website.pk):
            form.add_error(None, _("You have posted many comments in a short time: please wait a few minutes."))
            status = 429
        else:
            try:
                blog.post_comment(post=post, name=form.cleaned_data["name"], email=form.cleaned_data["email"],
                                  text=form.cleaned_data["text"])
            except services.InvalidSiteData as err:
                form.add_error(None, err.message)
            else:
                return redirect(f"{post.get_url(request)}?commented=1#comments")
    context = post.get_context(request)
    context["comment_form"] = form
    response = render(request, post.get_template(request), context, status=status)
    response["Cache-Control"] = "no-store"
    return response


SEARCH_RESULTS = 20


@require_GET
def website_search(request):
    """Search within the website the hostname is (Wagtail search, database backend): its live, public pages in the
    address's language only, never another site's; ``?q=`` bounded to 200 characters."""
    from wagtail.models import Page

    site = Site.find_for_request(request)
    website = UnitSite.objects.select_related("unit", "template", "site__root_page").filter(site=site).first() \
        if site else None
    if website is None:
        raise Http404
    query = (request.GET.get("q") or "").strip()[:200]
    results = []
    if query:
        root = website.site.root_page.localized
        pages = Page.objects.live().public().descendant_of(root, inclusive=True).specific()
        results = list(pages.search(query)[:SEARCH_RESULTS])
    home = website.site.root_page.localized
    response = render(request, "sites/website_search.html", {
        "website": website, "tokens": website.template.design_tokens(), "site_root": home, "page": home,
        "query": query, "results": results, "alternates": []})
    response["Cache-Control"] = "public, max-age=60"
    return response
