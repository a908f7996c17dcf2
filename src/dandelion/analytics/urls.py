from django.urls import path

from dandelion.analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("top-properties/", views.leaderboard, name="leaderboard"),
    path("stories/", views.story_list, name="story-list"),
    path("stories/new/", views.story_create, name="story-create"),
    path("stories/<int:pk>/", views.story_detail, name="story-detail"),
    path("stories/<int:pk>/edit/", views.story_edit, name="story-edit"),
    path("stories/<int:pk>/submit/", views.story_submit, name="story-submit"),
    path("stories/<int:pk>/feature/", views.story_feature, name="story-feature"),
]
