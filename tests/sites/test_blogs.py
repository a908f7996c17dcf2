"""Expert blogs: posts written by members, visitors' comments (validated, rate-limited, honeypot) that reach the
unified inbox through the ``website`` connector; the agent's reply shows under the comment on the blog, hiding the
comment from the inbox hides it on the blog. No inbox code names the network."""

from __future__ import annotations

import pathlib

import pytest
from django.core.exceptions import ValidationError

from dandelion.connectors import registry
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.inbox import services as inbox_services
from dandelion.inbox.jobs import deliver_reply, process_pending_deliveries, run_moderation
from dandelion.inbox.models import Message
from dandelion.sites import blog, jobs, services
from dandelion.sites.models import BlogComment, BlogPostPage
from tests.conftest import org  # noqa: F401

FR_HOST = "fr.localhost"


@pytest.fixture
def fr_blog(org):
    website = services.create_site(
        actor=org.users.hub_admin, unit=org.france, template="corporate", hostname=FR_HOST
    )
    index = blog.create_blog(actor=org.users.hub_admin, website=website, title="Experts", slug="experts")
    post = BlogPostPage(
        title="Composting in town",
        slug="composting",
        author=org.users.fr_cm,
        body=[{"type": "text", "value": "<p>Start small.</p>"}],
    )
    index.add_child(instance=post)
    post.save_revision(user=None).publish(skip_permission_checks=True)
    website.refresh_from_db()
    return website, index, post


def _comment(client, post, text="Great advice, thanks!", **extra):
    data = {"name": "Léa", "email": "lea@example.org", "text": text, "homepage": "", **extra}
    return client.post("/experts/composting/", data, HTTP_HOST=FR_HOST)


def test_the_blog_is_served_and_registers_its_comments_account(org, fr_blog, client):
    website, _index, _post = fr_blog
    assert website.comments_account is not None
    account = website.comments_account
    assert (account.owner_unit, account.network, account.connector, account.external_id) == (
        org.france,
        "website",
        "website",
        FR_HOST,
    )
    listing = client.get("/experts/", HTTP_HOST=FR_HOST)
    assert listing.status_code == 200 and "Composting in town" in listing.content.decode()
    page = client.get("/experts/composting/", HTTP_HOST=FR_HOST).content.decode()
    assert "Start small." in page and "frcm" in page and 'name="homepage"' in page


def test_the_comments_account_is_not_an_official_social_account(org, fr_blog, client):
    """The blog's comments account is an active account of France in the registry, but an internal one: the
    site's "official social accounts" block (and the announce-on-social drafts) leave it out."""
    website = fr_blog[0]
    official = org.fr_account
    listed = services.official_accounts(org.france)
    assert official in listed and website.comments_account not in listed
    home = client.get("/", HTTP_HOST=FR_HOST).content.decode()
    block = home[home.index('class="block-social"'):]
    block = block[: block.index("</section>")]
    assert "@brand_fr" in block and 'data-network="website"' not in block


def test_only_the_sites_editors_create_a_blog(org, fr_blog):
    website = fr_blog[0]
    with pytest.raises(PermissionDeniedError):
        blog.create_blog(actor=org.users.es_admin, website=website, slug="other")


def test_an_author_must_be_a_member_of_the_unit_or_above(org, fr_blog):
    post = fr_blog[2]
    post.author = org.users.es_admin
    with pytest.raises(ValidationError):
        post.full_clean()
    post.author = org.users.hub_admin  # a unit above France
    post.full_clean()


def test_a_comment_reaches_the_inbox_the_reply_shows_and_hiding_it_hides_it(
    org, fr_blog, client, django_capture_on_commit_callbacks
):
    website, _index, post = fr_blog
    with django_capture_on_commit_callbacks() as callbacks:
        resp = _comment(client, post)
    assert resp.status_code == 302 and resp["Location"].endswith("?commented=1#comments")
    assert len(callbacks) == 1  # the comment's account is polled once committed
    comment = BlogComment.objects.get()
    assert jobs.fetch_blog_comments.call(website.comments_account_id)["events"] == 1
    process_pending_deliveries.call()
    message = Message.objects.get(external_id=f"comment-{comment.pk}")
    assert (
        message.text == "Great advice, thanks!"
        and message.conversation.account_id == website.comments_account_id
    )
    assert jobs.fetch_blog_comments.call(website.comments_account_id)["events"] == 0  # the cursor moved on

    conversation = message.conversation
    reply = inbox_services.reply_to_conversation(
        conversation, text="Thank you Léa!", actor=org.users.fr_admin
    )
    assert deliver_reply.call(reply.pk) == "sent"
    reply.refresh_from_db()
    site_reply = BlogComment.objects.get(from_site=True)
    assert reply.external_id == f"comment-{site_reply.pk}" and site_reply.parent_id == comment.pk
    assert deliver_reply.call(reply.pk) == "not due"  # sent once
    page = client.get("/experts/composting/", HTTP_HOST=FR_HOST).content.decode()
    assert "Great advice, thanks!" in page and "Thank you Léa!" in page
    # the site's own reply does not come back to the inbox as a new comment
    assert jobs.fetch_blog_comments.call(website.comments_account_id)["events"] == 0

    inbox_services.moderate_message(message, action="hide", actor=org.users.fr_admin)
    assert run_moderation.call(message.pk, "hide") == "done"
    comment.refresh_from_db()
    assert comment.state == "hidden"
    page = client.get("/experts/composting/", HTTP_HOST=FR_HOST).content.decode()
    assert "Great advice, thanks!" not in page
    inbox_services.moderate_message(message, action="unhide", actor=org.users.fr_admin)
    run_moderation.call(message.pk, "unhide")
    assert "Great advice, thanks!" in client.get("/experts/composting/", HTTP_HOST=FR_HOST).content.decode()


def test_bad_comments_are_refused_with_clear_errors(fr_blog, client):
    for data, error in (
        ({"text": ""}, "This field is required"),
        ({"email": "not-an-address"}, "valid email"),
        ({"text": "x" * 2001}, "at most 2000"),
        ({"name": "bad\x00name"}, "not allowed"),
    ):
        resp = _comment(client, fr_blog[2], **data)
        assert resp.status_code == 400 and error in resp.content.decode()
    assert not BlogComment.objects.exists()


def test_the_honeypot_drops_bots_silently(fr_blog, client):
    resp = _comment(client, fr_blog[2], homepage="http://spam.example")
    assert resp.status_code == 302 and not BlogComment.objects.exists()


def test_comments_are_rate_limited_by_address(fr_blog, client):
    for n in range(5):
        assert _comment(client, fr_blog[2], text=f"comment {n}").status_code == 302
    resp = _comment(client, fr_blog[2], text="one too many")
    assert resp.status_code == 429 and BlogComment.objects.count() == 5


def test_closed_comments_and_banned_authors_are_refused(org, fr_blog, client):
    website, _index, post = fr_blog
    _comment(client, post, text="first")
    comment = BlogComment.objects.get()
    connector = registry.get("website")
    from dandelion.inbox import connect

    ref = connect.account_ref(website.comments_account)
    result = connector.ban_author(ref, f"visitor-{comment.author_key}")
    assert result.detail == "1 comment(s) hidden"
    resp = _comment(client, post, text="again")
    assert resp.status_code == 400 and "not accepted" in resp.content.decode()
    post.comments_open = False
    post.save_revision(user=None).publish(skip_permission_checks=True)
    resp = client.get("/experts/composting/", HTTP_HOST=FR_HOST)
    assert "Comments are closed." in resp.content.decode()


def test_the_connector_answers_unknown_sites_and_comments_with_permanent_errors(org, fr_blog):
    from dandelion.connectors.base import AccountRef, OutboundReply
    from dandelion.connectors.errors import ConnectorError

    connector = registry.get("website")
    ghost = AccountRef(id=1, network="website", external_id="nowhere.localhost", handle="nowhere.localhost")
    with pytest.raises(ConnectorError) as err:
        connector.poll_cursor(ghost, None)
    assert err.value.permanent
    ref = AccountRef(id=1, network="website", external_id=FR_HOST, handle=FR_HOST)
    with pytest.raises(ConnectorError):
        connector.send_reply(ref, OutboundReply(text="hi", in_reply_to="comment-999999"))
    assert list(connector.poll_cursor(ref, {"after": 0}).events) == []


def test_no_inbox_code_names_the_website_network():
    inbox = pathlib.Path(__file__).resolve().parents[2] / "src" / "dandelion" / "inbox"
    for path in inbox.rglob("*.py"):
        text = path.read_text()
        assert '"website"' not in text and "connectors.website" not in text and "sites.blog" not in text, path
