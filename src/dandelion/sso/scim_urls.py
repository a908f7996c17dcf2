from django.urls import path

from dandelion.sso import scim

app_name = "scim"
urlpatterns = [
    path("Users", scim.users, name="users"),
    path("Users/<str:scim_id>", scim.user, name="user"),
    path("Groups", scim.groups, name="groups"),
    path("Groups/<str:scim_id>", scim.group, name="group"),
    path("ServiceProviderConfig", scim.service_provider_config, name="config"),
]
