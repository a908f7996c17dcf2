"""Images on posts: alt text required, real images only, within bounds, stored with a thumbnail; changing the images
of a post past draft sends it back to review."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.publishing import media, services
from dandelion.publishing.choices import PostState
from dandelion.publishing.exceptions import InvalidPost
from dandelion.publishing.models import PostMedia

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def png(width=800, height=600) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, format="PNG")
    return out.getvalue()


def draft(pub):
    return services.create_post(actor=pub.users.fr_cm, unit=pub.france, text="Bonjour", accounts=[pub.fr_account])


def test_an_image_with_its_alt_text_is_stored_with_a_thumbnail(pub, media_root):
    post = draft(pub)
    item = media.add_media(post, actor=pub.users.fr_cm, data=png(), name="summer.png", alt_text="A sunny beach")
    assert (item.content_type, item.width, item.height) == ("image/png", 800, 600)
    assert item.file.name.endswith(".png") and (media_root / item.file.name).exists()
    with Image.open(media_root / item.thumbnail.name) as thumb:
        assert max(thumb.size) == 320
    assert AuditEvent.objects.filter(action="publishing.post.media_add").count() == 1
    media.remove_media(item, actor=pub.users.fr_cm)
    assert not PostMedia.objects.exists()


@pytest.mark.parametrize(("data", "alt", "field", "words"), [
    (png(), "  ", "alt_text", "alt text is required"),
    (b"%PDF-1.4 not an image", "A file", "file", "not an image"),
    (b"", "Empty", "file", "empty"),
    (b"x" * (media.MAX_IMAGE_BYTES + 1), "Big", "file", "larger than"),
])
def test_bad_images_are_refused_naming_the_field_and_nothing_is_saved(pub, media_root, data, alt, field, words):
    post = draft(pub)
    with pytest.raises(InvalidPost) as err:
        media.add_media(post, actor=pub.users.fr_cm, data=data, name="x.png", alt_text=alt)
    assert err.value.field == field and words in err.value.message
    assert not PostMedia.objects.exists() and not any(media_root.rglob("*.*"))


def test_a_bmp_is_an_image_but_not_one_the_networks_take(pub):
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="BMP")
    with pytest.raises(InvalidPost, match="BMP"):
        media.add_media(draft(pub), actor=pub.users.fr_cm, data=out.getvalue(), name="x.bmp", alt_text="x")


def test_changing_images_sends_an_approved_post_back_to_review(pub):
    services.create_workflow(actor=pub.users.hub_admin, unit=pub.hub, name="Hub",
                             steps=[{"role": "hub_admin", "mode": "any"}])
    post = services.submit_post(draft(pub), actor=pub.users.fr_cm)
    post = services.approve_post(post, actor=pub.users.hub_admin)
    assert post.state == PostState.APPROVED
    media.add_media(post, actor=pub.users.fr_cm, data=png(), name="a.png", alt_text="A shop front")
    post.refresh_from_db()
    assert post.state == PostState.IN_REVIEW and post.review_round == 2


def test_permission_and_the_api(pub, api_for):
    post = draft(pub)
    with pytest.raises(PermissionDeniedError):
        media.add_media(post, actor=pub.users.es_admin, data=png(), name="a.png", alt_text="x")
    api = api_for(pub.users.fr_cm)
    made = api.post(f"/api/v1/posts/{post.pk}/media/",
                    {"file": SimpleUploadedFile("a.png", png(), "image/png"), "alt_text": "A beach"},
                    format="multipart")
    assert made.status_code == 201, made.content
    assert made.json()["media"][0]["alt_text"] == "A beach"
    missing_alt = api.post(f"/api/v1/posts/{post.pk}/media/",
                           {"file": SimpleUploadedFile("a.png", png(), "image/png")}, format="multipart")
    assert missing_alt.status_code == 400 and missing_alt.json()["field"] == "alt_text"
    not_image = api.post(f"/api/v1/posts/{post.pk}/media/",
                         {"file": SimpleUploadedFile("a.png", b"nope", "image/png"), "alt_text": "x"},
                         format="multipart")
    assert not_image.status_code == 400 and "not an image" in not_image.json()["detail"]
    assert api_for(pub.users.analyst).post(f"/api/v1/posts/{post.pk}/media/", {}, format="multipart"
                                           ).status_code == 403


def test_the_page_adds_and_removes_an_image(pub, client_for):
    post = draft(pub)
    cm = client_for(pub.users.fr_cm)
    cm.post(f"/publishing/{post.pk}/media/", {"file": SimpleUploadedFile("a.png", png(), "image/png"),
                                              "alt_text": "A beach"})
    item = PostMedia.objects.get()
    assert "A beach" in cm.get(post.get_absolute_url()).content.decode()
    refused = cm.post(f"/publishing/{post.pk}/media/", {"file": SimpleUploadedFile("b.png", png(), "image/png")},
                      follow=True)
    assert "alt text is required" in refused.content.decode() and PostMedia.objects.count() == 1
    assert client_for(pub.users.es_admin).post(f"/publishing/media/{item.pk}/remove/").status_code == 404
    cm.post(f"/publishing/media/{item.pk}/remove/")
    assert not PostMedia.objects.exists()
