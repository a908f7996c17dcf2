from django.utils.translation import gettext_lazy as _

from dandelion.core import plugins


class CommunityConfig(plugins.DandelionAppConfig):
    name = "dandelion.community"
    label = "community"
    verbose_name = "Community"
    nav = (plugins.NavEntry(_("Community"), "community:home", order=70),)
    role_grants = {
        "spoke_admin": ("community.*",),
        "community_manager": ("community.*",),
        # helper agents read the knowledge base, ask and answer, and come to the gatherings
        "helper_agent": ("community.view_*", "community.add_question", "community.add_answer",
                         "community.add_registration", "community.add_articlefeedback",
                         "community.take_quiz"),
        "pr_manager": ("community.add_question", "community.add_answer", "community.add_registration",
                       "community.add_articlefeedback", "community.take_quiz"),
        "analyst": ("community.add_registration", "community.add_articlefeedback"),
    }
    api_routes = (
        plugins.ApiRoute("community-articles", "dandelion.community.api.views.ArticleViewSet", "article"),
        plugins.ApiRoute("community-questions", "dandelion.community.api.views.QuestionViewSet", "question"),
        plugins.ApiRoute("community-gatherings", "dandelion.community.api.views.GatheringViewSet", "gathering"),
        plugins.ApiRoute("community-members", "dandelion.community.api.views.MemberViewSet", "member"),
        plugins.ApiRoute("community-paths", "dandelion.community.api.views.LearningPathViewSet", "learningpath"),
        plugins.ApiRoute("community-certifications", "dandelion.community.api.views.CertificationViewSet",
                         "certification"),
        plugins.ApiRoute("community-guest-invitations", "dandelion.community.api.views.GuestInvitationViewSet",
                         "guestinvitation"),
    )
    demo_seed = "dandelion.community.demo.seed"
    demo_after = ("orgs",)

    def ready(self) -> None:
        super().ready()
        from django.contrib.auth.signals import user_logged_in

        from dandelion.community.guest_access import mark_session

        user_logged_in.connect(mark_session, dispatch_uid="community.guest_access.mark_session")
