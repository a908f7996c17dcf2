from django.urls import path

from dandelion.publishing import views

app_name = "publishing"

urlpatterns = [
    path("", views.post_list, name="post-list"),
    path("new/", views.post_create, name="post-create"),
    path("check/", views.post_check, name="post-check"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/week/", views.calendar_week, name="calendar-week"),
    path("calendar/move/<int:pk>/", views.calendar_move, name="calendar-move"),
    path("import/", views.post_import, name="post-import"),
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path("campaigns/new/", views.campaign_create, name="campaign-create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("campaigns/spokes/<int:pk>/", views.campaign_spoke, name="campaign-spoke"),
    path("campaigns/spokes/<int:pk>/localise/", views.campaign_localise, name="campaign-localise"),
    path("campaigns/spokes/<int:pk>/<str:verb>/", views.campaign_spoke_action, name="campaign-spoke-action"),
    path("export.csv", views.post_export, name="post-export"),
    path("media/<int:pk>/file/", views.media_file, name="media-file"),
    path("media/<int:pk>/thumb/", views.media_file, {"kind": "thumb"}, name="media-thumb"),
    path("advocacy/", views.advocacy_list, name="advocacy-list"),
    path("advocacy/<int:pk>/", views.advocacy_detail, name="advocacy-detail"),
    path("advocacy/connect/", views.advocacy_connect, name="advocacy-connect"),
    path("advocacy/connect/callback/", views.advocacy_connect_callback, name="advocacy-connect-callback"),
    path("advocacy/accounts/<int:pk>/disconnect/", views.advocacy_account_revoke, name="advocacy-account-revoke"),
    path("<int:pk>/", views.post_detail, name="post-detail"),
    path("<int:pk>/edit/", views.post_edit, name="post-edit"),
    path("<int:pk>/media/", views.media_add, name="media-add"),
    path("media/<int:pk>/remove/", views.media_remove, name="media-remove"),
    path("<int:pk>/<str:verb>/", views.post_action, name="post-action"),
    path("pauses/", views.pause_list, name="pause-list"),
    path("pauses/<int:pk>/resume/", views.pause_resume, name="pause-resume"),
    path("settings/<int:unit_pk>/", views.settings_edit, name="settings"),
    path("rules/", views.rule_list, name="rule-list"),
    path("workflows/", views.workflow_list, name="workflow-list"),
]
