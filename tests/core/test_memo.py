"""core.memo: lookups memoised inside a batch block, computed afresh outside it."""

from dandelion.core.memo import batch_memo, memoized


def test_memoized_only_inside_a_batch_block():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert memoized("k", compute) == 1 and memoized("k", compute) == 2  # no block: every call computes
    with batch_memo():
        assert memoized("k", compute) == 3
        assert memoized("k", compute) == 3
        with batch_memo():  # nested blocks share the outer memo
            assert memoized("k", compute) == 3
        assert memoized("other", compute) == 4
    assert memoized("k", compute) == 5  # nothing kept past the block


# --- configuration kept across batches ------------------------------------------------------------------------------

import pytest

from dandelion.core.memo import config_changed, config_memoized, current_generation, forget


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.calls


@pytest.mark.django_db
def test_a_config_lookup_is_kept_across_batches_until_the_configuration_changes(django_assert_num_queries):
    compute = Counter()
    assert config_memoized("k", compute) == 1 and config_memoized("k", compute) == 2  # no batch: afresh each time
    with batch_memo():
        assert config_memoized("k", compute) == 3
    with batch_memo(), django_assert_num_queries(1):  # the next batch: only the generation is read
        assert config_memoized("k", compute) == 3
        assert config_memoized("k", compute) == 3
    config_changed()
    with batch_memo():
        assert config_memoized("k", compute) == 4  # a new generation: read afresh
    with batch_memo():
        assert config_memoized("k", compute) == 4


@pytest.mark.django_db
def test_a_change_made_inside_a_batch_keeps_nothing_that_batch_reads_afterwards():
    compute = Counter()
    with batch_memo():
        assert config_memoized("before", compute) == 1
        config_changed()  # e.g. the triage team created on the fly: it may yet be rolled back
        assert config_memoized("after", compute) == 2
        assert config_memoized("after", compute) == 2  # still one value for the rest of the batch
    with batch_memo():
        assert config_memoized("after", compute) == 3  # not kept
        assert config_memoized("before", compute) == 4  # kept under the old generation only


@pytest.mark.django_db
def test_kept_values_expire_and_a_failed_batch_forgets_them(settings):
    compute = Counter()
    with batch_memo():
        config_memoized("k", compute)
    with batch_memo():
        forget()  # a failed batch: what it read in a rolled-back transaction may be gone
    with batch_memo():
        assert config_memoized("k", compute) == 2
    settings.DANDELION_CONFIG_CACHE_SECONDS = 0  # the bound on a change that bypassed config_changed()
    with batch_memo():
        assert config_memoized("k", compute) == 3
    with batch_memo():
        assert config_memoized("k", compute) == 4


@pytest.mark.django_db
def test_without_a_generation_nothing_is_kept_and_the_next_change_makes_one():
    from dandelion.core.models import ConfigGeneration

    ConfigGeneration.objects.all().delete()  # e.g. tables flushed
    compute = Counter()
    for expected in (1, 2):
        with batch_memo():
            assert config_memoized("k", compute) == expected
    config_changed()
    assert current_generation() is not None
    for _ in range(2):
        with batch_memo():
            assert config_memoized("k", compute) == 3


@pytest.mark.django_db
def test_every_configuration_write_starts_a_new_generation(org):
    from dandelion.orgs import services as orgs
    from dandelion.routing import services as routing
    from dandelion.routing.models import BusinessCalendar, Holiday, SlaPolicy

    admin = org.users.hub_admin
    seen = [current_generation()]

    def changed():
        now = current_generation()
        fresh = now not in seen
        seen.append(now)
        return fresh

    rule = routing.create_routing_rule(actor=admin, unit=org.france, name="VIP", actions={"set_priority": "high"})
    assert changed()
    routing.create_routing_rule(actor=admin, unit=org.france, name="Second", actions={"add_tags": ["x"]})
    assert changed()
    routing.move_routing_rule(rule, actor=admin, direction="down")  # positions written with QuerySet.update
    assert changed()
    routing.delete_routing_rule(rule, actor=admin)
    assert changed()
    policy = SlaPolicy.objects.create(team=org.fr_team, first_response_seconds=60)
    assert changed()
    routing.update_sla_policy(policy, actor=admin, first_response_seconds=120)
    assert changed()
    calendar = BusinessCalendar.objects.create(unit=org.france, name="FR hours", timezone="Europe/Paris")
    assert changed()
    Holiday.objects.create(calendar=calendar, date="2026-12-25", name="Noël")
    assert changed()
    membership = org.users.fr_agent.memberships.get(team=org.fr_team)
    orgs.update_membership(actor=admin, membership=membership, is_available=False)
    assert changed()
    orgs.update_team(actor=admin, team=org.es_team, languages=["es", "ca"])
    assert changed()
    orgs.move_unit(actor=admin, unit=org.spain, new_parent=org.hub)  # paths written with QuerySet.update
    assert changed()
    user = org.users.fr_agent2
    user.is_active = False
    user.save()
    assert changed()
    from django.contrib.auth.models import update_last_login

    update_last_login(None, org.users.es_agent)  # a login is no configuration change
    assert not changed()
