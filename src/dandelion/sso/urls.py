from django.urls import path

from dandelion.sso import views

app_name = "sso"
urlpatterns = [
    path("<slug:slug>/start/", views.start, name="start"),
    path("<slug:slug>/callback/", views.callback, name="callback"),
    path("providers/", views.provider_list, name="provider-list"),
    path("providers/<int:pk>/", views.provider_detail, name="provider-detail"),
    path("providers/<int:pk>/scim-token/", views.scim_token, name="scim-token"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule-delete"),
]
