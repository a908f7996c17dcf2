from django.urls import path

from dandelion.routing import views

app_name = "routing"
urlpatterns = [
    path("", views.rule_list, name="rule-list"),
    path("rules/new/", views.rule_create, name="rule-create"),
    path("rules/<int:pk>/", views.rule_edit, name="rule-edit"),
    path("rules/<int:pk>/move/", views.rule_move, name="rule-move"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule-delete"),
    path("rules/preview/", views.rule_preview, name="rule-preview"),
    path("sla/", views.sla_list, name="sla-list"),
    path("sla/new/", views.sla_create, name="sla-create"),
    path("sla/<int:pk>/", views.sla_edit, name="sla-edit"),
]
