"""The image block: an image of Wagtail's library with its alternative text, required by the block and checked by
the hub's "alt text on every image" guideline rule on pages written without the admin's form."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from wagtail.images.models import Image
from wagtail.images.tests.utils import get_test_image_file

from dandelion.publishing.models import GuidelineRule
from dandelion.sites import services
from dandelion.sites.blocks import SiteBlocks
from tests.conftest import org  # noqa: F401


@pytest.fixture
def fr_site(org, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return services.create_site(actor=org.users.hub_admin, unit=org.france, template="corporate",
                                hostname="fr.localhost")


@pytest.fixture
def photo(fr_site):
    return Image.objects.create(title="Shop front", file=get_test_image_file(filename="shop.png"))


def _image(photo, alt):
    return {"type": "image", "value": {"image": photo.pk, "alt": alt, "caption": "Our shop"}}


def _problems(website, body):
    return services.page_problems(website=website, key="about", title="About us",
                                  body_types=[b["type"] for b in body], body_raw=body)


def test_the_block_requires_its_alternative_text(photo):
    block = SiteBlocks().child_blocks["image"]
    with pytest.raises(ValidationError):
        block.clean(block.to_python({"image": photo.pk, "alt": "", "caption": ""}))
    value = block.clean(block.to_python({"image": photo.pk, "alt": "The shop's front, blue door", "caption": ""}))
    assert value["alt"] == "The shop's front, blue door"


def test_the_hubs_alt_text_rule_covers_pages(org, fr_site, photo):
    assert _problems(fr_site, [_image(photo, "")]) == []  # no rule: only the block's own requirement
    GuidelineRule.objects.create(unit=org.hub, name="Alt text", kind="alt_text", severity="block", params={})
    GuidelineRule.objects.create(unit=org.hub, name="No scams", kind="banned_terms", severity="block",
                                 params={"terms": ["scam"]})
    assert _problems(fr_site, [_image(photo, " "), _image(photo, "A door")]) == [
        ("body", "Guideline check Alt text: 1 image(s) without alt text.")]
    assert _problems(fr_site, [_image(photo, "A door")]) == []
    assert _problems(fr_site, [_image(photo, "A scam door")]) == [  # the alt text is page text too
        ("body", "Guideline check No scams: Contains 'scam'.")]


def test_the_image_is_served_with_its_alternative_text(org, fr_site, photo, client):
    about = fr_site.site.root_page.get_children().get(slug="about").specific
    about.body = [*about.body.raw_data, _image(photo, "The shop's front, blue door")]
    about.save_revision().publish()
    html = client.get("/about/", HTTP_HOST="fr.localhost").content.decode()
    assert 'alt="The shop&#x27;s front, blue door"' in html and "<figcaption>Our shop</figcaption>" in html
