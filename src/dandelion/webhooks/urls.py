from django.urls import path

from dandelion.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.subscription_list, name="subscription-list"),
    path("new/", views.subscription_create, name="subscription-create"),
    path("<int:pk>/", views.subscription_detail, name="subscription-detail"),
    path("<int:pk>/edit/", views.subscription_edit, name="subscription-edit"),
    path("<int:pk>/delete/", views.subscription_delete, name="subscription-delete"),
    path("<int:pk>/enable/", views.subscription_enable, name="subscription-enable"),
    path("<int:pk>/disable/", views.subscription_disable, name="subscription-disable"),
    path("<int:pk>/test/", views.subscription_test, name="subscription-test"),
    path("<int:pk>/rotate-secret/", views.subscription_rotate_secret, name="subscription-rotate-secret"),
    path("<int:pk>/deliveries/", views.delivery_list, name="delivery-list"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery-detail"),
    path("deliveries/<int:pk>/redeliver/", views.delivery_redeliver, name="delivery-redeliver"),
]
