from rest_framework.routers import SimpleRouter

from dandelion.webhooks.api.views import WebhookDeliveryViewSet, WebhookSubscriptionViewSet

router = SimpleRouter()
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhooksubscription")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhookdelivery")
urlpatterns = router.urls
