import datetime as dt

import pytest
from django.utils import timezone

from dandelion.connectors import fake
from dandelion.core.actors import SYSTEM
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.publishing import services
from dandelion.publishing.choices import PostState, VariantState
from dandelion.publishing.exceptions import GuidelineBlocked, InvalidPost, InvalidTransition, NotAnApprover
from dandelion.publishing.models import Post, PostVariant

pytestmark = pytest.mark.django_db


def draft(pub, text="Bonjour à tous", accounts=None, **kw):
    return services.create_post(actor=pub.users.fr_cm, unit=pub.france, text=text,
                                accounts=accounts or [pub.fr_account, pub.fr_short], **kw)


def hub_workflow(pub, mode="any"):
    return services.create_workflow(actor=pub.users.hub_admin, unit=pub.hub, name="Hub review",
                                    steps=[{"name": "Hub", "role": "hub_admin", "mode": mode}])


def test_create_post_makes_one_variant_per_account_and_audits(pub):
    post = draft(pub, variant_texts={pub.fr_short.pk: "Court"})
    assert post.state == PostState.DRAFT and post.author == pub.users.fr_cm
    texts = {v.account_id: v.effective_text for v in post.variants.all()}
    assert texts == {pub.fr_account.pk: "Bonjour à tous", pub.fr_short.pk: "Court"}
    assert len({v.idempotency_key for v in post.variants.all()}) == 2
    assert AuditEvent.objects.filter(action="publishing.post.create").count() == 1


def test_too_long_for_one_network_names_it_and_saves_nothing(pub):
    with pytest.raises(InvalidPost) as err:
        draft(pub, text="x" * 281)
    assert "X (Twitter) @brand_fr_x" in err.value.message and "281 of 280" in err.value.message
    assert err.value.field == "text"
    assert not Post.objects.exists()


def test_accounts_outside_the_unit_or_scope_are_refused(pub):
    with pytest.raises(InvalidPost):
        draft(pub, accounts=[pub.es_account])
    with pytest.raises(PermissionDeniedError):
        services.create_post(actor=pub.users.es_agent, unit=pub.france, text="x", accounts=[pub.fr_account])


def test_dst_gap_and_past_times_are_clear_errors(pub):
    pub.france.timezone = "Europe/Paris"
    pub.france.save()
    with pytest.raises(InvalidPost) as err:
        draft(pub, scheduled_local=dt.datetime(2030, 3, 31, 2, 30))
    assert "does not exist in Europe/Paris" in err.value.message and err.value.field == "scheduled_at"
    with pytest.raises(InvalidPost, match="past"):
        draft(pub, scheduled_local=dt.datetime(2001, 1, 1, 9, 0))
    post = draft(pub, scheduled_local=dt.datetime(2030, 7, 1, 9, 0))
    assert post.scheduled_at == dt.datetime(2030, 7, 1, 7, 0, tzinfo=dt.UTC)  # CEST is UTC+2
    assert services.local_schedule(post).hour == 9


def test_blocking_rule_blocks_submit_then_fix_and_approve_then_send(pub):
    services.create_rule(actor=pub.users.hub_admin, unit=pub.hub, name="No competitors", kind="banned_terms",
                         params={"terms": ["Acme"]})
    hub_workflow(pub)
    post = draft(pub, text="Meilleur que acme !")
    with pytest.raises(GuidelineBlocked) as err:
        services.submit_post(post, actor=pub.users.fr_cm)
    assert "acme" in err.value.message.lower()
    post = services.update_post(post, actor=pub.users.fr_cm, text="Le meilleur, tout simplement.")
    post = services.submit_post(post, actor=pub.users.fr_cm)
    assert post.state == PostState.IN_REVIEW
    with pytest.raises(NotAnApprover):
        services.approve_post(post, actor=pub.users.fr_admin)  # not a hub admin
    post = services.approve_post(post, actor=pub.hub_reviewer)
    assert post.state == PostState.APPROVED
    post = services.schedule_post(post, actor=pub.users.fr_cm)
    assert post.state == PostState.SCHEDULED
    counts = services.send_due(worker="w1")
    assert counts["sent"] == 2
    post.refresh_from_db()
    assert post.state == PostState.PUBLISHED and len(fake.STORE.published) == 2
    assert all(v.external_id.startswith("fake-") for v in post.variants.all())
    assert services.send_due(worker="w2")["claimed"] == 0  # exactly once


def test_no_self_approval_and_all_mode(pub):
    services.create_workflow(actor=pub.users.hub_admin, unit=pub.france, name="FR",
                             steps=[{"role": "community_manager", "mode": "any"},
                                    {"role": "hub_admin", "mode": "all"}])
    post = services.submit_post(draft(pub), actor=pub.users.fr_cm)
    with pytest.raises(NotAnApprover, match="own post"):
        services.approve_post(post, actor=pub.users.fr_cm)
    other_cm = pub.users.fr_admin  # a spoke admin is not a community manager
    with pytest.raises(NotAnApprover):
        services.approve_post(post, actor=other_cm)
    from dandelion.orgs.choices import Role
    from tests.factories import MembershipFactory, UserFactory

    cm2 = UserFactory(username="frcm2")
    MembershipFactory(user=cm2, unit=pub.france, role=Role.COMMUNITY_MANAGER)
    post = services.approve_post(post, actor=cm2)
    assert post.state == PostState.IN_REVIEW  # step 2: every hub admin
    post = services.approve_post(post, actor=pub.users.hub_admin)
    assert post.state == PostState.IN_REVIEW  # hub_reviewer has not approved yet
    post = services.approve_post(post, actor=pub.hub_reviewer)
    assert post.state == PostState.APPROVED


def test_request_changes_and_editing_an_approved_post_sends_it_back(pub):
    hub_workflow(pub)
    post = services.submit_post(draft(pub), actor=pub.users.fr_cm)
    with pytest.raises(InvalidPost):
        services.request_changes(post, actor=pub.hub_reviewer, comment="")
    post = services.request_changes(post, actor=pub.hub_reviewer, comment="Plus court")
    assert post.state == PostState.DRAFT
    post = services.submit_post(post, actor=pub.users.fr_cm)
    post = services.approve_post(post, actor=pub.hub_reviewer)
    assert post.state == PostState.APPROVED
    post = services.update_post(post, actor=pub.users.fr_cm, text="Bonjour, nouvelle version")
    assert post.state == PostState.IN_REVIEW and post.review_round == 3
    assert services.pending_steps(post)[0].name == "Hub"


def test_extra_approval_step_from_a_sensitive_term(pub):
    services.create_rule(actor=pub.users.hub_admin, unit=pub.hub, name="Legal", kind="sensitive_terms",
                         severity="approval", params={"terms": ["gratuit"]})
    post = services.submit_post(draft(pub, text="Livraison gratuit"), actor=pub.users.fr_cm)
    assert post.state == PostState.IN_REVIEW and post.needs_extra_approval
    with pytest.raises(NotAnApprover):
        services.approve_post(post, actor=pub.users.fr_admin)  # only the hub holds the extra step
    assert services.approve_post(post, actor=pub.hub_reviewer).state == PostState.APPROVED


def test_no_workflow_means_approved_on_submit_and_scheduled_when_timed(pub):
    post = draft(pub, scheduled_local=(timezone.now() + dt.timedelta(hours=2)).replace(tzinfo=None))
    post = services.submit_post(post, actor=pub.users.fr_cm)
    assert post.state == PostState.SCHEDULED
    assert services.send_due(worker="w")["claimed"] == 0  # not due yet
    later = timezone.now() + dt.timedelta(hours=3)
    assert services.send_due(now=later, worker="w")["sent"] == 2


def scheduled_now(pub, **kw):
    post = services.submit_post(draft(pub, **kw), actor=pub.users.fr_cm)
    return services.schedule_post(post, actor=pub.users.fr_cm)


def test_transient_errors_retry_with_backoff_then_permanent_fails_and_marks_account(pub):
    post = scheduled_now(pub, accounts=[pub.fr_account])
    fake.FakeConnector.fail_next(1, retry_after=5)
    assert services.send_due(worker="w")["retry"] == 1
    variant = PostVariant.objects.get(post=post)
    assert variant.state == VariantState.PENDING and variant.due_at > timezone.now() and variant.attempts == 1
    assert services.send_due(worker="w")["claimed"] == 0  # backing off
    fake.FakeConnector.fail_next(1, permanent=True, message="token revoked")
    assert services.send_due(now=timezone.now() + dt.timedelta(hours=2), worker="w")["failed"] == 1
    post.refresh_from_db()
    pub.fr_account.refresh_from_db()
    assert post.state == PostState.FAILED and "token revoked" in post.last_error
    assert "token revoked" in pub.fr_account.last_error


def test_worker_killed_mid_send_never_posts_twice(pub):
    post = scheduled_now(pub, accounts=[pub.fr_account])
    [vid] = services.claim_due(worker="dead")
    # the dead worker had reached the network: the post exists there, the result was never recorded
    variant = PostVariant.objects.get(pk=vid)
    from dandelion.connectors.base import OutboundPost
    from dandelion.inbox.connect import account_ref

    fake.FakeConnector().publish(account_ref(pub.fr_account),
                                 OutboundPost(text=post.text, idempotency_key=variant.idempotency_key))
    assert services.claim_due(worker="other") == []  # claimed: nobody else takes it
    assert services.send_due(worker="other")["claimed"] == 0
    later = timezone.now() + services.CLAIM_LEASE + dt.timedelta(seconds=1)
    assert services.send_due(now=later, worker="other")["sent"] == 1
    assert len(fake.STORE.published) == 1  # the idempotency key: one post on the network
    post.refresh_from_db()
    assert post.state == PostState.PUBLISHED


def test_crisis_pause_holds_due_posts_even_if_already_queued_and_resume(pub):
    due = scheduled_now(pub, accounts=[pub.fr_account])
    later = services.submit_post(draft(pub, accounts=[pub.fr_account],
                                       scheduled_local=(timezone.now() + dt.timedelta(days=2)).replace(
                                           tzinfo=None)), actor=pub.users.fr_cm)
    with pytest.raises(Exception, match="reason"):
        services.pause_subtree(actor=pub.users.hub_admin, unit=pub.europe, reason=" ")
    with pytest.raises(PermissionDeniedError):
        services.pause_subtree(actor=pub.users.fr_cm, unit=pub.europe, reason="Crisis")
    pause = services.pause_subtree(actor=pub.users.hub_admin, unit=pub.europe, reason="Crisis in Lyon")
    assert pause.posts_paused == 2
    assert services.send_due(now=timezone.now() + dt.timedelta(days=3), worker="w")["claimed"] == 0
    assert fake.STORE.published == []
    # a post scheduled into the paused subtree meanwhile (a race with the pause) is held by the claim's check
    Post.objects.filter(pk=due.pk).update(state=PostState.SCHEDULED)
    assert services.claim_due(worker="w") == []
    Post.objects.filter(pk=due.pk).update(state=PostState.PAUSED)
    counts = services.resume_pause(pause, actor=pub.users.hub_admin)
    assert counts == {"resumed": 1, "fell_due": 1}
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.state == PostState.PAUSED and later.state == PostState.SCHEDULED
    services.schedule_post(due, actor=pub.users.fr_cm)
    assert services.send_due(worker="w")["sent"] == 1
    assert AuditEvent.objects.filter(action__startswith="publishing.pause").count() == 2


def test_guidelines_run_again_before_sending(pub):
    post = scheduled_now(pub, accounts=[pub.fr_account], text="Promo Globex")
    services.create_rule(actor=pub.users.hub_admin, unit=pub.hub, name="No Globex", kind="banned_terms",
                         params={"terms": ["globex"]})
    assert services.send_due(worker="w")["failed"] == 1
    post.refresh_from_db()
    assert post.state == PostState.FAILED and "Globex" in post.last_error or "globex" in post.last_error
    assert fake.STORE.published == []


def test_cancel_and_invalid_transitions(pub):
    post = draft(pub)
    with pytest.raises(InvalidTransition):
        services.approve_post(post, actor=pub.hub_reviewer)
    post = services.cancel_post(post, actor=pub.users.fr_cm)
    assert post.state == PostState.CANCELLED
    with pytest.raises(InvalidTransition):
        services.update_post(post, actor=pub.users.fr_cm, text="x")


def test_system_actor_runs_jobs(pub):
    post = scheduled_now(pub, accounts=[pub.fr_account])
    services.cancel_post(post, actor=SYSTEM)
    assert services.send_due(worker="w")["claimed"] == 0
