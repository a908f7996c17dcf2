"""The urls a spoke's hostname is served (``middleware.WebsiteHostMiddleware``): its design tokens, its sitemap and
its pages (Wagtail's routing by hostname)."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.contrib.sitemaps.views import sitemap

from dandelion.sites import views

urlpatterns = [
    path("_website/tokens.css", views.tokens_css, name="website-tokens"),
    # the site's live, public pages in every locale (with their translations as hreflang alternates)
    path("sitemap.xml", sitemap, name="website-sitemap"),
    # the site's default language at /, its other locales under /<language>/ (services.add_site_locale)
    *i18n_patterns(path("search/", views.website_search, name="website-search"), path("", include(wagtail_urls)),
                   prefix_default_language=False),
]

# Dandelion's 404 page extends its app layout (navigation, login): a website answers with its own plain page.
handler404 = "dandelion.sites.views.website_not_found"
handler500 = "dandelion.sites.views.website_error"
