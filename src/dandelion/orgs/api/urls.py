from rest_framework.routers import SimpleRouter

from dandelion.orgs.api.views import GuidelineViewSet, MembershipViewSet, OrgUnitViewSet, TeamViewSet

router = SimpleRouter()
router.register("org-units", OrgUnitViewSet, basename="orgunit")
router.register("teams", TeamViewSet, basename="team")
router.register("memberships", MembershipViewSet, basename="membership")
router.register("guidelines", GuidelineViewSet, basename="guideline")
urlpatterns = router.urls
