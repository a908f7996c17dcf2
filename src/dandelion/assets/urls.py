from django.urls import path

from dandelion.assets import views

app_name = "assets"
urlpatterns = [
    path("accounts/", views.account_list, name="account-list"),
    path("accounts/new/", views.account_create, name="account-create"),
    path("accounts/connect/", views.account_connect, name="account-connect"),
    path("accounts/connect/callback/", views.account_connect_callback, name="account-connect-callback"),
    path("accounts/import/", views.account_import, name="account-import"),
    path("accounts/export.csv", views.account_export, name="account-export"),
    path("accounts/<int:pk>/", views.account_detail, name="account-detail"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="account-edit"),
    path("accounts/<int:pk>/transfer/", views.account_transfer, name="account-transfer"),
    path("accounts/<int:pk>/archive/", views.account_archive, name="account-archive"),
    path("accounts/<int:pk>/credentials/", views.account_credentials, name="account-credentials"),
    path("accounts/<int:pk>/rotate-webhook-secret/", views.account_rotate_secret, name="account-rotate-secret"),
]
