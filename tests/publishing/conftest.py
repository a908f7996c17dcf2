import pytest

from dandelion.connectors import fake
from dandelion.orgs.choices import Role
from tests.factories import MembershipFactory, SocialAccountFactory, UserFactory


@pytest.fixture
def pub(org):
    """The ``org`` fixture plus a second France account on a short-text network, a fake connector, and a hub
    reviewer."""
    fake.reset()
    org.fr_account.connector = "fake"
    org.fr_account.save(update_fields=["connector"])
    org.fr_short = SocialAccountFactory(owner_unit=org.france, network="x", handle="@brand_fr_x",
                                        external_id="x-fr", languages=["fr"], country="FR", connector="fake")
    org.hub_reviewer = UserFactory(username="hubreviewer")
    MembershipFactory(user=org.hub_reviewer, unit=org.hub, role=Role.HUB_ADMIN)
    yield org
    fake.reset()
