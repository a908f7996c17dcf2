from django.urls import path

from dandelion.sso import views

app_name = "sso"
urlpatterns = [
    path("<slug:slug>/start/", views.start, name="start"),
    path("<slug:slug>/callback/", views.callback, name="callback"),
    path("<slug:slug>/saml/metadata/", views.saml_metadata, name="saml-metadata"),
    path("<slug:slug>/saml/acs/", views.saml_acs, name="saml-acs"),
    path("providers/", views.provider_list, name="provider-list"),
    path("providers/new/", views.provider_create, name="provider-create"),
    path("providers/<int:pk>/", views.provider_detail, name="provider-detail"),
    path("providers/<int:pk>/edit/", views.provider_edit, name="provider-edit"),
    path("providers/<int:pk>/toggle/", views.provider_toggle, name="provider-toggle"),
    path("providers/<int:pk>/delete/", views.provider_delete, name="provider-delete"),
    path("providers/<int:pk>/scim-token/", views.scim_token, name="scim-token"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule-edit"),
    path("rules/<int:pk>/toggle/", views.rule_toggle, name="rule-toggle"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule-delete"),
    path("local-passwords/", views.local_passwords, name="local-passwords"),
]
