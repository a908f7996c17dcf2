"""The urls a spoke's hostname is served (``middleware.WebsiteHostMiddleware``): its design tokens, its sitemap and
its pages (Wagtail's routing by hostname)."""

from django.urls import include, path
from wagtail import urls as wagtail_urls

from dandelion.sites import views

urlpatterns = [
    path("_website/tokens.css", views.tokens_css, name="website-tokens"),
    path("", include(wagtail_urls)),
]

# Dandelion's 404 page extends its app layout (navigation, login): a website answers with its own plain page.
handler404 = "dandelion.sites.views.website_not_found"
handler500 = "dandelion.sites.views.website_error"
