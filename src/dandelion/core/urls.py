from django.urls import path

from dandelion.core import views

app_name = "core"
urlpatterns = [
    path("audit/", views.audit_list, name="audit-list"),
    path("audit/<int:pk>/", views.audit_detail, name="audit-detail"),
    path("profile/", views.profile, name="profile"),
]
