from rest_framework.routers import SimpleRouter

from dandelion.inbox.api.views import CannedResponseViewSet, ConversationViewSet, InboxMetricsViewSet

router = SimpleRouter()
router.register("conversations", ConversationViewSet, basename="conversation")
router.register("canned-responses", CannedResponseViewSet, basename="cannedresponse")
router.register("metrics/inbox", InboxMetricsViewSet, basename="inbox-metrics")
urlpatterns = router.urls
