"""Bluesky images with alt text, against the REAL local AT Protocol network (``blueskynet.py``): published posts
carry ``app.bsky.embed.images`` (uploaded blobs, alt text, aspect ratio) read back from the AppView; the limits
(count, bytes, type, alt length) are refused before anything is uploaded; a customer's post with images arrives
with its alt texts and image URLs, end to end through the inbox. The images are served by a local HTTP server."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from tests.connectors.feedserver import FeedServer, Route
from tests.connectors.test_bluesky_network import (  # noqa: F401 - the session's network and its helpers
    _fresh_sessions,
    poll_until,
    ref_for,
)
from tests.inbox.conftest import _analyzer, _fake_store, inbox  # noqa: F401 - fixtures shared with the inbox tests

from dandelion.connectors import registry
from dandelion.connectors.base import OutboundPost, poll_with_cursor
from dandelion.connectors.errors import ConnectorError


def png(width: int, height: int, color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def images():
    server = FeedServer().start()
    server.routes["/red.png"] = Route(png(64, 32), content_type="image/png")
    server.routes["/blue.jpg"] = Route(_jpeg(30, 60), content_type="image/jpeg")
    server.routes["/big.png"] = Route(b"\x89PNG\r\n\x1a\n" + b"0" * 1_000_001, content_type="image/png")
    server.routes["/fake.png"] = Route(b"<html>not an image</html>", content_type="image/png")  # lies
    server.routes["/gone.png"] = Route(status=404)
    yield server
    server.stop()


def _jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (20, 20, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_published_images_carry_their_alt_text_on_the_network(bsky_net, images):
    net, bluesky = bsky_net, registry.get("bluesky")
    brand = net.account("brand")
    ref = ref_for(net, brand)
    sent = bluesky.publish(ref, OutboundPost(
        text="Notre nouvelle vitrine", media_urls=[images.url("/red.png"), images.url("/blue.jpg")],
        alt_texts=["Une vitrine rouge, vue de face", "Un sac bleu"]))
    view = net.wait_for(lambda: next(iter(net.appview_get("app.bsky.feed.getPosts", brand,
                                                           uris=[sent.external_id])["posts"]), None))
    record = view["record"]["embed"]
    assert record["$type"] == "app.bsky.embed.images"
    assert [i["alt"] for i in record["images"]] == ["Une vitrine rouge, vue de face", "Un sac bleu"]
    assert [i["image"]["mimeType"] for i in record["images"]] == ["image/png", "image/jpeg"]
    ratios = [(i["aspectRatio"]["width"], i["aspectRatio"]["height"]) for i in record["images"]]
    assert ratios == [(64, 32), (30, 60)]
    shown = view["embed"]
    assert shown["$type"] == "app.bsky.embed.images#view"
    assert [i["alt"] for i in shown["images"]] == ["Une vitrine rouge, vue de face", "Un sac bleu"]
    assert all(i["fullsize"].startswith("http") for i in shown["images"])
    feed = net.appview_get("app.bsky.feed.getAuthorFeed", brand, actor=brand.did)["feed"]
    assert [item["post"]["uri"] for item in feed] == [sent.external_id]
    # an image alone, without text, is a post too
    alone = bluesky.publish(ref, OutboundPost(text="", media_urls=[images.url("/red.png")], alt_texts=["Rouge"]))
    assert alone.external_id.startswith("at://")


@pytest.mark.parametrize(("urls", "alts", "message"), [
    (["/red.png"] * 5, [], "at most 4 images"),
    (["/big.png"], ["x"], "larger than 1,000,000 bytes"),
    (["/fake.png"], ["x"], "not a JPEG, PNG, WebP or GIF"),
    (["/red.png"], ["é" * 2001], "Bluesky allows 2000"),
    (["/red.png"], ["a", "b"], "more alt texts than images"),
    (["/gone.png"], [], "HTTP 404"),
])
def test_image_limits_are_refused_before_any_upload(bsky_net, images, urls, alts, message):
    net, bluesky = bsky_net, registry.get("bluesky")
    brand = net.account("brand")
    with pytest.raises(ConnectorError, match=message) as refused:
        bluesky.publish(ref_for(net, brand), OutboundPost(text="Photo", media_urls=[images.url(u) for u in urls],
                                                         alt_texts=alts))
    assert refused.value.permanent
    assert net.appview_get("app.bsky.feed.getAuthorFeed", brand, actor=brand.did)["feed"] == []


def _image_post(net, author, target, blobs_and_alts, text="regardez la photo"):
    """``author`` mentions ``target`` with images (uploaded to the PDS as the Bluesky app does)."""
    token = net.session(author)
    images = []
    for data, alt in blobs_and_alts:
        blob = net.http.post(f"{net.pds}/xrpc/com.atproto.repo.uploadBlob", content=data,
                             headers={"Authorization": f"Bearer {token}", "Content-Type": "image/png"}).json()["blob"]
        images.append({"alt": alt, "image": blob})
    full = f"@{target.handle} {text}"
    facet = {"index": {"byteStart": 0, "byteEnd": len(f"@{target.handle}".encode())},
             "features": [{"$type": "app.bsky.richtext.facet#mention", "did": target.did}]}
    return net.post(author, full, facets=[facet], embed={"$type": "app.bsky.embed.images", "images": images})


def test_inbound_images_keep_alt_text_and_urls(bsky_net):
    net, bluesky = bsky_net, registry.get("bluesky")
    brand, customer = net.account("brand"), net.account("camille")
    ref = ref_for(net, brand)
    first = poll_with_cursor(bluesky, ref, None)
    post = _image_post(net, customer, brand, [(png(10, 10), "Le colis abîmé"), (png(12, 8), "")])
    events, _cursor, rejected = poll_until(bluesky, ref, first.cursor, count=1)
    assert rejected == [] and [e.external_id for e in events] == [post["uri"]]
    event = events[0]
    lines = event.text.splitlines()
    assert lines[0].endswith("regardez la photo")
    assert lines[1].startswith("[Image: Le colis abîmé] http") and lines[2].startswith("[Image: no alt text] http")
    assert [i["alt"] for i in event.raw["images"]] == ["Le colis abîmé", ""]
    assert all("/img/feed_fullsize/" in i["url"] for i in event.raw["images"])


@pytest.mark.django_db
def test_customer_image_reaches_the_queue_with_its_alt_text(inbox, bsky_net):
    from dandelion.assets import services as assets
    from dandelion.inbox.jobs import process_pending_deliveries
    from dandelion.inbox.models import Message
    from dandelion.inbox.polling import poll_account

    net = bsky_net
    brand, customer = net.account("brand"), net.account("camille")
    account = inbox.fr_account
    account.network, account.connector, account.external_id, account.handle = "bluesky", "bluesky", brand.did, \
        brand.handle
    account.connector_config = {"service": net.pds, "backfill": 0}
    account.save()
    assets.set_account_credentials(account, credentials={"app_password": brand.app_password}, expires_at=None,
                                   actor=inbox.users.hub_admin)
    poll_account(account.pk)
    post = _image_post(net, customer, brand, [(png(10, 10), "Carton écrasé")], text="voilà l'état du colis")

    def arrived():
        type(account).objects.filter(pk=account.pk).update(next_poll_at=None)
        poll_account(account.pk)
        process_pending_deliveries.call()
        return Message.objects.filter(external_id=post["uri"]).first()

    message = net.wait_for(arrived, what="the image post in the inbox")
    assert message.conversation.team == inbox.fr_team
    assert "voilà l'état du colis" in message.text and "[Image: Carton écrasé] http" in message.text
