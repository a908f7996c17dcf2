from django.utils.translation import gettext_lazy as _

from dandelion.core import plugins


class PublishingConfig(plugins.DandelionAppConfig):
    name = "dandelion.publishing"
    label = "publishing"
    verbose_name = "Publishing"
    nav = (plugins.NavEntry(_("Publishing"), "publishing:post-list", order=45),)
    role_grants = {
        # spoke admins get add/change/delete of every publishing model from the base grants; approving is named
        "spoke_admin": ("publishing.approve_post", "publishing.share_advocacyitem"),
        "community_manager": ("publishing.add_post", "publishing.change_post", "publishing.approve_post",
                              "publishing.share_advocacyitem"),
        "pr_manager": ("publishing.approve_post", "publishing.share_advocacyitem"),
        # employee advocacy: every member shares the library to their own accounts (not external moderators)
        "helper_agent": ("publishing.share_advocacyitem",),
        "analyst": ("publishing.share_advocacyitem",),
    }
    api_routes = (
        plugins.ApiRoute("posts", "dandelion.publishing.api.views.PostViewSet", "post"),
        plugins.ApiRoute("guideline-rules", "dandelion.publishing.api.views.GuidelineRuleViewSet", "guidelinerule"),
        plugins.ApiRoute("workflows", "dandelion.publishing.api.views.WorkflowViewSet", "workflow"),
        plugins.ApiRoute("campaigns", "dandelion.publishing.api.views.CampaignViewSet", "campaign"),
        plugins.ApiRoute("campaign-spokes", "dandelion.publishing.api.views.CampaignSpokeViewSet", "campaignspoke"),
        plugins.ApiRoute("crisis-pauses", "dandelion.publishing.api.views.CrisisPauseViewSet", "crisispause"),
        plugins.ApiRoute("advocacy-items", "dandelion.publishing.api.views.AdvocacyItemViewSet", "advocacyitem"),
        plugins.ApiRoute("publishing-settings", "dandelion.publishing.api.views.PublishingSettingsViewSet",
                         "publishingsettings"),
        plugins.ApiRoute("personal-accounts", "dandelion.publishing.api.views.PersonalAccountViewSet",
                         "personalaccount"),
    )
    extra_urls = (("l/", "dandelion.publishing.links_urls"),)  # the short links' public redirect
    demo_seed = "dandelion.publishing.demo.seed"
    demo_after = ("orgs", "assets")
