import datetime as dt

import pytest
from django.utils import timezone

from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.publishing import campaigns, services
from dandelion.publishing.choices import CampaignStatus, PostState
from dandelion.publishing.exceptions import InvalidPost, InvalidRule, InvalidTransition
from dandelion.publishing.models import Campaign, CampaignSpoke, Post
from tests.factories import MembershipFactory, OrgUnitFactory, SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def local(days: float, hour: int = 10) -> dt.datetime:
    return (timezone.now() + dt.timedelta(days=days)).replace(tzinfo=None, hour=hour, minute=0, second=0,
                                                             microsecond=0)


@pytest.fixture
def camp(pub):
    pub.italy = OrgUnitFactory(name="Italy", slug="italy", parent=pub.europe, timezone="Europe/Rome")
    pub.it_account = SocialAccountFactory(owner_unit=pub.italy, network="mastodon", handle="@brand_it",
                                          external_id="m-it", languages=["it"], connector="fake")
    pub.es_account.connector = "fake"
    pub.es_account.save(update_fields=["connector"])
    pub.es_cm = UserFactory(username="escm")
    from dandelion.orgs.choices import Role

    MembershipFactory(user=pub.es_cm, unit=pub.spain, role=Role.COMMUNITY_MANAGER)
    pub.campaign = campaigns.create_campaign(
        actor=pub.users.hub_admin, unit=pub.hub, name="Summer sale", brief="Everyone, same week.",
        master_text="Summer is here! Our summer collection is in store.", starts_local=local(2, 0),
        ends_local=local(9, 23), spokes=[pub.france, pub.spain, pub.italy])
    pub.fr_row = pub.campaign.spokes.get(unit=pub.france)
    pub.es_row = pub.campaign.spokes.get(unit=pub.spain)
    pub.it_row = pub.campaign.spokes.get(unit=pub.italy)
    return pub


def test_spoke_status_is_the_least_advanced_live_post():
    s = campaigns.spoke_status
    assert s([]) == CampaignStatus.NOT_STARTED
    assert s([], declined=True) == CampaignStatus.DECLINED
    assert s([PostState.CANCELLED]) == CampaignStatus.NOT_STARTED
    assert s([PostState.PUBLISHED, PostState.DRAFT]) == CampaignStatus.DRAFTING
    assert s([PostState.PUBLISHED, PostState.IN_REVIEW]) == CampaignStatus.IN_APPROVAL
    assert s([PostState.PUBLISHED, PostState.SCHEDULED]) == CampaignStatus.SCHEDULED
    assert s([PostState.PAUSED]) == CampaignStatus.SCHEDULED
    assert s([PostState.PUBLISHED, PostState.PUBLISHED]) == CampaignStatus.PUBLISHED
    assert s([PostState.PUBLISHED, PostState.FAILED]) == CampaignStatus.FAILED
    assert s([PostState.DRAFT], declined=True) == CampaignStatus.DRAFTING  # taken up again


def test_create_campaign_assigns_spokes_and_audits(camp):
    c = camp.campaign
    assert set(c.spokes.values_list("unit__name", flat=True)) == {"France", "Spain", "Italy"}
    assert c.starts_at < c.ends_at
    event = AuditEvent.objects.get(action="publishing.campaign.create")
    assert "3 spoke" in event.summary


def test_create_campaign_refuses_bad_input_and_saves_nothing(camp):
    hub = camp.users.hub_admin
    with pytest.raises(InvalidRule, match="not a unit below"):
        campaigns.create_campaign(actor=hub, unit=camp.france, name="X", master_text="x", starts_local=local(1),
                                  ends_local=local(2), spokes=[camp.spain])
    with pytest.raises(InvalidPost, match="end after"):
        campaigns.create_campaign(actor=hub, unit=camp.hub, name="X", master_text="x", starts_local=local(3),
                                  ends_local=local(2), spokes=[camp.spain])
    with pytest.raises(InvalidRule, match="at least one spoke"):
        campaigns.create_campaign(actor=hub, unit=camp.hub, name="X", master_text="x", starts_local=local(1),
                                  ends_local=local(2), spokes=[])
    with pytest.raises(PermissionDeniedError):
        campaigns.create_campaign(actor=camp.users.fr_cm, unit=camp.france, name="X", master_text="x",
                                  starts_local=local(1), ends_local=local(2), spokes=[])
    assert Campaign.objects.count() == 1


def test_each_spoke_localises_within_the_window_and_the_hub_sees_the_matrix(camp):
    # France localises, goes through review (no workflow: approved on submit) and is scheduled in the window
    fr_post = campaigns.localise_campaign(camp.fr_row, actor=camp.users.fr_cm, accounts=[camp.fr_account],
                                         text="L'été est là !", scheduled_local=local(3))
    assert fr_post.campaign == camp.campaign and fr_post.title == "Summer sale"
    services.submit_post(fr_post, actor=camp.users.fr_cm)
    # Spain drafts with the master text
    es_post = campaigns.localise_campaign(camp.es_row, actor=camp.es_cm, accounts=[camp.es_account])
    assert es_post.text == camp.campaign.master_text
    # Italy declines
    campaigns.decline_campaign(camp.it_row, actor=camp.users.europe_admin, reason="Not our season yet")
    matrix = {r.assignment.unit.name: r for r in campaigns.campaign_matrix(camp.campaign)}
    assert matrix["France"].status == CampaignStatus.SCHEDULED
    assert matrix["Spain"].status == CampaignStatus.DRAFTING and matrix["Spain"].can_nudge
    assert matrix["Italy"].status == CampaignStatus.DECLINED
    assert matrix["Italy"].assignment.decline_reason == "Not our season yet"
    assert not matrix["Italy"].can_nudge and not matrix["France"].can_nudge


def test_no_spoke_goes_before_the_campaign_starts(camp):
    with pytest.raises(InvalidPost, match="runs from") as err:
        campaigns.localise_campaign(camp.fr_row, actor=camp.users.fr_cm, accounts=[camp.fr_account],
                                    scheduled_local=local(1))
    assert err.value.field == "scheduled_at"
    post = campaigns.localise_campaign(camp.fr_row, actor=camp.users.fr_cm, accounts=[camp.fr_account])
    post = services.submit_post(post, actor=camp.users.fr_cm)
    assert post.state == PostState.APPROVED
    with pytest.raises(InvalidPost, match="runs from"):  # "now" is before the window
        services.schedule_post(post, actor=camp.users.fr_cm)
    with pytest.raises(InvalidPost, match="runs from"):
        services.schedule_post(post, actor=camp.users.fr_cm, scheduled_local=local(12))
    assert services.schedule_post(post, actor=camp.users.fr_cm, scheduled_local=local(4)).state == \
        PostState.SCHEDULED


def test_a_unit_outside_the_campaign_cannot_post_for_it(camp):
    other = campaigns.create_campaign(actor=camp.users.hub_admin, unit=camp.hub, name="Spain only",
                                      master_text="Hola", starts_local=local(1), ends_local=local(5),
                                      spokes=[camp.spain])
    with pytest.raises(InvalidPost, match="not a spoke"):
        services.create_post(actor=camp.users.fr_cm, unit=camp.france, text="x", accounts=[camp.fr_account],
                             campaign=other)
    with pytest.raises(PermissionDeniedError):  # Spain's row, France's community manager
        campaigns.localise_campaign(camp.es_row, actor=camp.users.fr_cm, accounts=[camp.es_account])
    assert not Post.objects.exists()


def test_decline_needs_a_reason_and_no_live_post_and_localising_takes_it_up_again(camp):
    with pytest.raises(InvalidPost):
        campaigns.decline_campaign(camp.fr_row, actor=camp.users.fr_admin, reason=" ")
    with pytest.raises(PermissionDeniedError):  # a community manager is not the spoke's lead
        campaigns.decline_campaign(camp.fr_row, actor=camp.users.fr_cm, reason="No")
    post = campaigns.localise_campaign(camp.fr_row, actor=camp.users.fr_cm, accounts=[camp.fr_account])
    with pytest.raises(InvalidTransition, match="cancel them"):
        campaigns.decline_campaign(camp.fr_row, actor=camp.users.fr_admin, reason="No")
    services.cancel_post(post, actor=camp.users.fr_cm)
    row = campaigns.decline_campaign(camp.fr_row, actor=camp.users.fr_admin, reason="Budget")
    assert campaigns.status_of(row) == CampaignStatus.DECLINED
    with pytest.raises(InvalidTransition):
        campaigns.decline_campaign(camp.fr_row, actor=camp.users.fr_admin, reason="Budget")
    campaigns.localise_campaign(row, actor=camp.users.fr_cm, accounts=[camp.fr_account])
    row.refresh_from_db()
    assert row.declined_at is None and campaigns.status_of(row) == CampaignStatus.DRAFTING


def test_nudge_only_by_the_owner_and_only_when_something_is_left(camp):
    with pytest.raises(PermissionDeniedError):
        campaigns.nudge_spoke(camp.fr_row, actor=camp.users.fr_admin)
    row = campaigns.nudge_spoke(camp.fr_row, actor=camp.users.hub_admin, message="Deadline Friday")
    row = campaigns.nudge_spoke(row, actor=camp.users.hub_admin)
    assert row.nudge_count == 2 and row.nudged_at is not None
    assert AuditEvent.objects.filter(action="publishing.campaign.nudge").count() == 2
    campaigns.decline_campaign(camp.it_row, actor=camp.users.europe_admin, reason="No")
    with pytest.raises(InvalidTransition, match="nothing to nudge"):
        campaigns.nudge_spoke(camp.it_row, actor=camp.users.hub_admin)


def test_assign_more_spokes(camp):
    camp.campaign.spokes.filter(unit=camp.italy).delete()
    new = campaigns.assign_spokes(camp.campaign, actor=camp.users.hub_admin, spokes=[camp.france, camp.italy])
    assert [r.unit for r in new] == [camp.italy]
    assert CampaignSpoke.objects.filter(campaign=camp.campaign).count() == 3


def test_matrix_is_two_queries_whatever_the_spokes(camp, django_assert_num_queries):
    for row in (camp.fr_row, camp.es_row):
        campaigns.localise_campaign(row, actor=camp.users.hub_admin,
                                    accounts=[camp.fr_account if row == camp.fr_row else camp.es_account])
    with django_assert_num_queries(2):
        rows = campaigns.campaign_matrix(camp.campaign)
        assert [r.status for r in rows] == [CampaignStatus.DRAFTING, CampaignStatus.DRAFTING,
                                            CampaignStatus.NOT_STARTED]
