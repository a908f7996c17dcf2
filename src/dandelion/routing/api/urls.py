from rest_framework.routers import SimpleRouter

from dandelion.routing.api.views import RoutingRuleViewSet, SlaPolicyViewSet

router = SimpleRouter()
router.register("routing-rules", RoutingRuleViewSet, basename="routingrule")
router.register("sla-policies", SlaPolicyViewSet, basename="slapolicy")
urlpatterns = router.urls
