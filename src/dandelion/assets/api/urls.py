from rest_framework.routers import SimpleRouter

from dandelion.assets.api.views import SocialAccountViewSet

router = SimpleRouter()
router.register("accounts", SocialAccountViewSet, basename="socialaccount")
urlpatterns = router.urls
