from django.utils.translation import gettext_lazy as _

from dandelion.core import plugins


class AnalyticsConfig(plugins.DandelionAppConfig):
    name = "dandelion.analytics"
    label = "analytics"
    verbose_name = "Analytics"
    nav = (
        plugins.NavEntry(_("Analytics"), "analytics:dashboard", order=65),
        plugins.NavEntry(_("Top properties"), "analytics:leaderboard", order=66),
        plugins.NavEntry(_("Success stories"), "analytics:story-list", order=67),
    )
    # every reading role sees the dashboards of its subtree (base "*.view_*"); spokes write and submit stories;
    # featuring is the hub's (analytics.feature_successstory: the hub admin's "*", on the root unit)
    role_grants = {
        "spoke_admin": ("analytics.submit_successstory",),
        "community_manager": ("analytics.add_successstory", "analytics.change_successstory",
                              "analytics.submit_successstory"),
    }
    api_routes = (
        plugins.ApiRoute("analytics-rollups", "dandelion.analytics.api.views.DailyRollupViewSet", "dailyrollup"),
        plugins.ApiRoute("analytics-dashboard", "dandelion.analytics.api.views.DashboardViewSet",
                         "analytics-dashboard"),
        plugins.ApiRoute("analytics-leaderboard", "dandelion.analytics.api.views.LeaderboardViewSet",
                         "analytics-leaderboard"),
        plugins.ApiRoute("success-stories", "dandelion.analytics.api.views.SuccessStoryViewSet", "successstory"),
    )
    demo_seed = "dandelion.analytics.demo.seed"
    # the community's weekly digest lists the stories featured that week (community asks; it never imports us)
    community_digest_stories = "dandelion.analytics.services.featured_stories_since"
    demo_after = ("orgs", "assets", "inbox", "publishing")
