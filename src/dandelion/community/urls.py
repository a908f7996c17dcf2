from django.urls import path

from dandelion.community import views

app_name = "community"
urlpatterns = [
    path("", views.home, name="home"),
    path("articles/", views.article_list, name="article-list"),
    path("articles/new/", views.article_create, name="article-create"),
    path("articles/<int:pk>/", views.article_detail, name="article-detail"),
    path("articles/<int:pk>/edit/", views.article_edit, name="article-edit"),
    path("articles/<int:pk>/feedback/", views.article_feedback, name="article-feedback"),
    path("questions/", views.question_list, name="question-list"),
    path("questions/new/", views.question_create, name="question-create"),
    path("questions/<int:pk>/", views.question_detail, name="question-detail"),
    path("answers/<int:pk>/accept/", views.answer_accept, name="answer-accept"),
    path("answers/<int:pk>/to-article/", views.answer_to_article, name="answer-to-article"),
    path("gatherings/", views.gathering_list, name="gathering-list"),
    path("gatherings/new/", views.gathering_create, name="gathering-create"),
    path("gatherings/<int:pk>/", views.gathering_detail, name="gathering-detail"),
    path("gatherings/<int:pk>/register/", views.gathering_register, name="gathering-register"),
    path("gatherings/<int:pk>/cancel/", views.gathering_cancel, name="gathering-cancel"),
    path("gatherings/<int:pk>/calendar.ics", views.gathering_ics, name="gathering-ics"),
    path("gatherings/<int:pk>/materials/", views.material_add, name="material-add"),
    path("gatherings/<int:pk>/series/", views.gathering_series_edit, name="gathering-series-edit"),
    path("gatherings/<int:pk>/guests/", views.guest_register, name="guest-register"),
    path("guests/confirm/<str:token>/", views.guest_confirm, name="guest-confirm"),
    path("guests/welcome/<str:token>/", views.guest_welcome, name="guest-welcome"),
    path("gatherings/<int:pk>/invite/", views.guest_invite, name="guest-invite"),
    path("materials/<int:pk>/", views.material_download, name="material-download"),
    path("materials/<int:pk>/remove/", views.material_remove, name="material-remove"),
    path("my/calendar.ics", views.my_calendar, name="my-calendar"),
    path("paths/<int:pk>/", views.path_detail, name="path-detail"),
    path("members/", views.member_list, name="member-list"),
    path("members/me/", views.member_edit, name="member-edit"),
    path("members/<int:pk>/", views.member_detail, name="member-detail"),
    path("members/<int:pk>/ask/", views.member_ask, name="member-ask"),
    path("enablement/", views.enablement_status, name="enablement"),
]
