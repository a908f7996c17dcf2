from django.urls import path

from dandelion.listening import views

app_name = "listening"
urlpatterns = [
    path("", views.query_list, name="query-list"),
    path("new/", views.query_create, name="query-create"),
    path("check/", views.query_check, name="query-check"),
    path("<int:pk>/", views.query_detail, name="query-detail"),
    path("<int:pk>/edit/", views.query_edit, name="query-edit"),
    path("<int:pk>/delete/", views.query_delete, name="query-delete"),
    path("<int:pk>/subscription/", views.query_subscription, name="query-subscription"),
    path("<int:pk>/series.json", views.query_series, name="query-series"),
    path("<int:pk>/mentions/<int:mention_pk>/to-inbox/", views.mention_to_inbox, name="mention-to-inbox"),
    path("mentions/<int:pk>/", views.mention_detail, name="mention-detail"),
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert-detail"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert-acknowledge"),
]
