from django.urls import path

from dandelion.crisis import views

app_name = "crisis"
urlpatterns = [
    path("", views.incident_list, name="incident-list"),
    path("new/", views.incident_create, name="incident-create"),
    path("<int:pk>/", views.incident_detail, name="incident-detail"),
    path("<int:pk>/log/", views.incident_log, name="incident-log"),
    path("<int:pk>/join/", views.incident_join, name="incident-join"),
    path("<int:pk>/owner/", views.incident_owner, name="incident-owner"),
    path("<int:pk>/status/", views.incident_status, name="incident-status"),
    path("<int:pk>/severity/", views.incident_severity, name="incident-severity"),
    path("<int:pk>/pause/", views.incident_pause, name="incident-pause"),
    path("<int:pk>/resume/", views.incident_resume, name="incident-resume"),
    path("<int:pk>/statement/", views.incident_statement, name="incident-statement"),
    path("<int:pk>/statement/translation/", views.incident_statement_translation,
         name="incident-statement-translation"),
    path("<int:pk>/push-statement/", views.incident_push_statement, name="incident-push-statement"),
    path("<int:pk>/close/", views.incident_close, name="incident-close"),
    path("<int:pk>/postmortem/", views.incident_postmortem, name="incident-postmortem"),
    path("<int:pk>/playbook/", views.incident_apply_playbook, name="incident-playbook"),
    path("<int:pk>/checklist/<int:item>/", views.checklist_tick, name="checklist-tick"),
    path("<int:pk>/stakeholders/", views.incident_stakeholders, name="incident-stakeholders"),
    path("playbooks/", views.playbook_list, name="playbook-list"),
    path("playbooks/new/", views.playbook_create, name="playbook-create"),
    path("playbooks/<int:pk>/", views.playbook_edit, name="playbook-edit"),
]
