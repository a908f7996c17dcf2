from django.urls import path

from dandelion.sites import views

app_name = "sites"
urlpatterns = [
    path("", views.site_list, name="site-list"),
    path("new/", views.site_create, name="site-create"),
    path("report/", views.consistency_report, name="report"),
    path("crisis-banner/<int:unit_id>/", views.crisis_banner, name="crisis-banner"),
    path("<int:pk>/links/", views.site_links, name="links"),
    path("<int:pk>/sections/", views.site_sections, name="sections"),
    path("sections/<int:pk>/revoke/", views.section_revoke, name="section-revoke"),
    path("pages/<int:page_id>/share/", views.share_page, name="share-page"),
]
