"""A page's editor asks, in its *Settings* tab, to announce the page on the unit's social accounts when it is
published: the publication (the hub approving in the workflow) makes a publishing draft for the chosen accounts
with the page's title, summary and link (UTM-tagged), submitted to the publishing app's approval. One per
revision, audited; a draft that cannot be made is recorded, the page stays published."""

from __future__ import annotations

from wagtail.models import TaskState

from dandelion.assets.choices import AccountStatus
from dandelion.core.models import AuditEvent
from dandelion.publishing.choices import PostState
from dandelion.publishing.models import Post
from dandelion.sites import services
from dandelion.sites.models import PageShare
from tests.conftest import org  # noqa: F401
from tests.sites.test_workflow import _about, fr_site  # noqa: F401  (the same France site and page)


def test_the_editor_chooses_among_the_units_official_accounts(org, fr_site, client_for):
    page = _about(fr_site)
    html = client_for(org.users.fr_cm).get(f"/cms/pages/{page.pk}/edit/").content.decode()
    assert 'name="share_on_publish"' in html
    assert f'name="share_accounts" value="{org.fr_account.pk}"' in html
    assert f'name="share_accounts" value="{org.es_account.pk}"' not in html  # Spain's account is not France's


def test_ticking_share_without_accounts_is_refused(org, fr_site):
    page = _about(fr_site)
    form_class = type(page).get_edit_handler().get_form_class()
    form = form_class(instance=page, for_user=org.users.fr_cm, parent_page=page.get_parent(),
                      data={"title": page.title, "slug": page.slug, "body-count": "0", "share_on_publish": "on"})
    assert not form.is_valid()
    assert "share_accounts" in form.errors


def test_the_hubs_approval_publishes_the_page_and_drafts_its_announcement(org, fr_site, client_for,
                                                                         django_capture_on_commit_callbacks):
    page = _about(fr_site)
    page.title = "About our team"
    page.search_description = "Who answers you, in Lyon and Paris."
    page.share_on_publish = True
    page.share_accounts = [org.fr_account]
    revision = page.save_revision(user=org.users.fr_cm)
    page.get_workflow().start(page, org.users.fr_cm)
    assert not Post.objects.exists()  # nothing before the hub approves
    state = TaskState.objects.get(workflow_state__object_id=str(page.pk), status=TaskState.STATUS_IN_PROGRESS)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client_for(org.users.hub_admin).post(f"/cms/pages/workflow/action/{page.pk}/approve/{state.pk}/")
    assert resp.status_code in (200, 302)
    post = Post.objects.get()
    assert post.unit == org.france and post.state in (PostState.IN_REVIEW, PostState.APPROVED)  # submitted
    [variant] = post.variants.select_related("account")
    assert variant.account == org.fr_account
    text = variant.text or post.text
    assert "About our team" in text and "Who answers you, in Lyon and Paris." in text
    assert "http://fr.localhost/about/?utm_source=facebook&utm_medium=social&utm_campaign=website" in text
    share = PageShare.objects.get()
    assert (share.page_id, share.revision_id, share.post_id, share.error) == (page.pk, revision.pk, post.pk, "")
    assert AuditEvent.objects.filter(action="sites.page.share").count() == 1
    shown = client_for(org.users.fr_cm).get(f"/sites/pages/{page.pk}/share/").content.decode()
    assert 'id="page-shares"' in shown and post.get_absolute_url() in shown
    # announced, the box is unticked (the page and the revision the editor's form loads)
    page.refresh_from_db()
    assert not page.share_on_publish and not page.get_latest_revision_as_object().share_on_publish
    # publishing the same revision again makes no second draft, nor does a later publication (the crisis banner's
    # included) or a page without the box ticked
    with django_capture_on_commit_callbacks(execute=True):
        revision.publish(skip_permission_checks=True)
        services.push_crisis_banner(actor=org.users.hub_admin, unit=org.france, message="Outage")
        page.save_revision(user=None).publish(skip_permission_checks=True)
        contact = fr_site.site.root_page.get_children().get(slug="contact").specific
        contact.save_revision(user=None).publish(skip_permission_checks=True)
    assert Post.objects.count() == 1 and PageShare.objects.count() == 1


def test_an_announcement_that_cannot_be_made_is_recorded_and_the_page_stays_live(org, fr_site,
                                                                               django_capture_on_commit_callbacks):
    page = _about(fr_site)
    page.share_on_publish = True
    page.share_accounts = [org.fr_account]
    revision = page.save_revision(user=None)
    org.fr_account.status = AccountStatus.ARCHIVED
    org.fr_account.save(update_fields=["status"])
    with django_capture_on_commit_callbacks(execute=True):
        revision.publish(skip_permission_checks=True)
    page.refresh_from_db()
    share = PageShare.objects.get()
    assert page.live and share.post is None and "no active official account" in share.error
    assert not Post.objects.exists()
    assert AuditEvent.objects.filter(action="sites.page.share").count() == 1
