"""The short links' redirect, mounted at ``l/`` (outside ``publishing/``: the links are public and short)."""

from django.urls import path

from dandelion.publishing import views

app_name = "publishing-links"

urlpatterns = [
    path("<str:code>", views.follow_short_link, name="follow"),
]
