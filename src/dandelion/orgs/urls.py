from django.urls import path

from dandelion.orgs import views

app_name = "orgs"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("units/<int:pk>/", views.unit_detail, name="unit-detail"),
    path("units/<int:pk>/add/", views.unit_create, name="unit-create"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit-edit"),
    path("units/<int:pk>/move/", views.unit_move, name="unit-move"),
    path("units/<int:pk>/deactivate/", views.unit_deactivate, name="unit-deactivate"),
    path("units/<int:pk>/teams/add/", views.team_create, name="team-create"),
    path("units/<int:pk>/members/add/", views.membership_create, name="membership-create"),
    path("units/<int:pk>/members/invite/", views.member_invite, name="member-invite"),
    path("teams/", views.team_list, name="team-list"),
    path("teams/<int:pk>/", views.team_detail, name="team-detail"),
    path("teams/<int:pk>/edit/", views.team_edit, name="team-edit"),
    path("teams/<int:pk>/deactivate/", views.team_deactivate, name="team-deactivate"),
    path("members/", views.membership_list, name="membership-list"),
    path("memberships/<int:pk>/edit/", views.membership_edit, name="membership-edit"),
    path("memberships/<int:pk>/revoke/", views.membership_revoke, name="membership-revoke"),
    path("memberships/<int:pk>/deactivate-person/", views.person_deactivate, name="person-deactivate"),
    path("memberships/<int:pk>/resend-invitation/", views.membership_resend_invitation,
         name="membership-resend-invitation"),
    path("guidelines/", views.guideline_list, name="guideline-list"),
    path("guidelines/new/", views.guideline_create, name="guideline-create"),
    path("guidelines/<int:pk>/", views.guideline_detail, name="guideline-detail"),
    path("guidelines/<int:pk>/edit/", views.guideline_edit, name="guideline-edit"),
    path("guidelines/<int:pk>/publish/", views.guideline_publish, name="guideline-publish"),
    path("guidelines/<int:pk>/discard/", views.guideline_discard, name="guideline-discard"),
    path("guidelines/<int:pk>/acknowledge/", views.guideline_acknowledge, name="guideline-acknowledge"),
    path("guidelines/<int:pk>/report/", views.guideline_report, name="guideline-report"),
]
