from django.urls import path

from dandelion.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk/", views.queue_bulk, name="bulk"),
    path("conversations/<int:pk>/", views.conversation_detail, name="conversation-detail"),
    path("conversations/<int:pk>/canned/", views.canned_preview, name="canned-preview"),
    path("conversations/<int:pk>/messages/<int:message_id>/delete/", views.moderate_delete, name="moderate-delete"),
    path("conversations/<int:pk>/attachments/<int:attachment_id>/", views.attachment_download,
         name="attachment-download"),
    path("conversations/<int:pk>/<slug:action>/", views.conversation_action, name="conversation-action"),
    path("canned/", views.canned_list, name="canned-list"),
    path("canned/new/", views.canned_create, name="canned-create"),
    path("canned/<int:pk>/", views.canned_edit, name="canned-edit"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/policy/", views.approval_policy, name="approval-policy"),
    path("metrics/", views.metrics, name="metrics"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/retry/", views.deliveries_retry, name="deliveries-retry"),
]
