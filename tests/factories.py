"""factory-boy factories shared by every app's tests."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from dandelion.assets.models import SocialAccount
from dandelion.orgs.choices import Role, TeamKind, UnitKind
from dandelion.orgs.models import Membership, OrgUnit, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or "pw-test-123")
        if create:
            obj.save(update_fields=["password"])


class OrgUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrgUnit

    name = factory.Sequence(lambda n: f"Unit {n}")
    slug = factory.Sequence(lambda n: f"unit-{n}")
    kind = UnitKind.COUNTRY
    parent = None


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    unit = factory.SubFactory(OrgUnitFactory)
    name = factory.Sequence(lambda n: f"Team {n}")
    kind = TeamKind.HELPERS
    languages = factory.LazyFunction(lambda: ["en"])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    unit = factory.SubFactory(OrgUnitFactory)
    role = Role.HELPER_AGENT


class SocialAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialAccount
        skip_postgeneration_save = True

    network = "facebook"
    connector = "generic"
    handle = factory.Sequence(lambda n: f"@brand{n}")
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    display_name = factory.LazyAttribute(lambda o: o.handle.lstrip("@").title())
    owner_unit = factory.SubFactory(OrgUnitFactory)
    languages = factory.LazyFunction(lambda: ["en"])

    @factory.post_generation
    def webhook_secret(obj, create, extracted, **kwargs):
        obj.set_webhook_secret(extracted or "test-webhook-secret")
        if create:
            obj.save(update_fields=["webhook_secret_encrypted"])


class UserProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "core.UserProfile"
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)
    language = ""
    time_zone = ""
