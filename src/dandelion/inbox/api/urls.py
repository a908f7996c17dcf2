from rest_framework.routers import SimpleRouter

from dandelion.inbox.api.views import (
    CannedResponseViewSet,
    ConversationViewSet,
    InboundDeliveryViewSet,
    InboxMetricsViewSet,
)

router = SimpleRouter()
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("canned-responses", CannedResponseViewSet, basename="cannedresponse")
router.register("metrics/inbox", InboxMetricsViewSet, basename="inbox-metrics")
router.register("inbound-deliveries", InboundDeliveryViewSet, basename="inbounddelivery")
urlpatterns = router.urls
