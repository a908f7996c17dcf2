"""Issue 16: bulk tagging from the queue's bulk bar (confirmed with how many, per-conversation refusals, audited,
through the tag service) and the REST endpoint for bulk actions (``POST /api/v1/conversations/bulk/``: the same
services, one result per id, permission-checked)."""

import pytest
from django.urls import reverse

from dandelion.core.models import AuditEvent
from dandelion.inbox.models import Conversation
from tests.inbox.conftest import _analyzer, _fake_store, deliver, event, inbox, post_hook  # noqa: F401 (fixtures)
from tests.inbox.test_workspace_bulk import _flash, convs  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
BULK = reverse("inbox:bulk")
API = "/api/v1/conversations/bulk/"


def _tags(conversation) -> set[str]:
    return set(conversation.tags.values_list("name", flat=True))


def test_bulk_tagging_is_confirmed_with_the_count_then_done_refusals_listed_and_audited(inbox, convs, client_for):
    fr1, fr2, es1 = convs
    client = client_for(inbox.users.fr_agent)
    queue = client.get(reverse("inbox:queue") + "?tab=all").content.decode()
    assert '<option value="tag">' in queue and 'name="tags"' in queue
    data = {"action": "tag", "ids": [fr1.pk, fr2.pk, es1.pk], "tags": "livraison, VIP ,livraison", "next": "?tab=all"}
    page = client.post(BULK, data).content.decode()
    assert "Add tags: 2 conversations?" in page and "livraison, VIP" in page and "Alice Un" in page
    assert "1 conversation ticked is not in your scope" in page
    assert 'name="tags" value="livraison, VIP"' in page  # carried to the confirmation
    assert not _tags(fr1) and not AuditEvent.objects.filter(action="inbox.tag").exists()
    response = client.post(BULK, data | {"confirmed": "1"})
    flashes = _flash(response)
    assert "Add tags: 2 conversations done." in flashes
    assert any(m.startswith("1 refused") and f"#{es1.pk}: not found in your scope" in m for m in flashes)
    assert _tags(fr1) == _tags(fr2) == {"livraison", "VIP"} and not _tags(es1)
    assert AuditEvent.objects.filter(action="inbox.tag").count() == 2
    summary = AuditEvent.objects.get(action="inbox.bulk")
    assert summary.changes["tags"] == [None, ["livraison", "VIP"]] and summary.changes["done"] == [
        None, [fr1.pk, fr2.pk]]
    # tagging again with a tag they already have changes nothing on them (no new history, no new audit row)
    client.post(BULK, {"action": "tag", "ids": [fr1.pk], "tags": "VIP", "confirmed": "1"})
    assert AuditEvent.objects.filter(action="inbox.tag").count() == 2


def test_bulk_tagging_refuses_a_tag_too_long_or_no_tag_and_adds_nothing(inbox, convs, client_for):
    fr1, fr2, _ = convs
    client = client_for(inbox.users.fr_agent)
    response = client.post(BULK, {"action": "tag", "ids": [fr1.pk, fr2.pk], "tags": "ok, " + "x" * 300,
                                  "confirmed": "1"})
    assert any("300 characters long" in m and "no tag was saved" in m for m in _flash(response))
    page = client.post(BULK, {"action": "tag", "ids": [fr1.pk], "tags": " , "}).content.decode()
    assert "Type the tags to add in the bulk bar first." in page and 'id="bulk-confirm" disabled' in page
    response = client.post(BULK, {"action": "tag", "ids": [fr1.pk], "tags": "", "confirmed": "1"})
    assert "Type the tags to add to the conversations." in _flash(response)
    assert not _tags(fr1) and not _tags(fr2) and not AuditEvent.objects.filter(action="inbox.bulk").exists()


def test_bulk_tagging_in_french(inbox, convs, client_for):
    fr1, *_ = convs
    client = client_for(inbox.users.fr_agent)
    page = client.post(BULK, {"action": "tag", "ids": [fr1.pk], "tags": "colis"},
                       HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Ajouter des étiquettes : 1 conversation ?" in page and "colis" in page


# --- the API ---------------------------------------------------------------------------------------------------


def test_api_bulk_applies_each_action_through_its_service_with_one_result_per_id(inbox, convs, api_for):
    fr1, fr2, es1 = convs
    api = api_for(inbox.users.fr_admin)
    response = api.post(API, {"action": "tag", "ids": [fr1.pk, es1.pk, fr2.pk, 999999], "tags": ["colis"]},
                        format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["action"] == "tag" and body["done"] == 2 and body["refused"] == 2
    assert [r["id"] for r in body["results"]] == [fr1.pk, es1.pk, fr2.pk, 999999]  # the order asked
    assert [r["status"] for r in body["results"]] == ["done", "refused", "done", "refused"]
    assert body["results"][1]["detail"] == "not found in your scope" and body["results"][0]["detail"] == ""
    assert _tags(fr1) == {"colis"} and not _tags(es1)
    api.post(API, {"action": "assign", "ids": [fr1.pk, fr2.pk], "assignee": inbox.users.fr_agent2.pk},
             format="json")
    assert set(Conversation.objects.filter(pk__in=[fr1.pk, fr2.pk]).values_list("assignee", flat=True)) == {
        inbox.users.fr_agent2.pk}
    taken = api_for(inbox.users.fr_agent).post(API, {"action": "take", "ids": [fr1.pk], "reason": "je connais"},
                                               format="json").json()
    assert taken["done"] == 1 and Conversation.objects.get(pk=fr1.pk).assignee == inbox.users.fr_agent
    hub = api_for(inbox.users.hub_admin)
    moved = hub.post(API, {"action": "move", "ids": [fr2.pk], "team": inbox.vendor_team.pk,
                           "reason": "Amharic in fact"}, format="json").json()
    assert moved["done"] == 1 and Conversation.objects.get(pk=fr2.pk).team == inbox.vendor_team
    assert api.post(API, {"action": "hide", "ids": [fr1.pk], "reason": "spam"}, format="json").json()["done"] == 1
    assert Conversation.objects.get(pk=fr1.pk).status == "hidden"
    assert api.post(API, {"action": "unhide", "ids": [fr1.pk]}, format="json").json()["done"] == 1
    resolved = api.post(API, {"action": "resolve", "ids": [fr1.pk]}, format="json").json()
    assert resolved["done"] == 1 and Conversation.objects.get(pk=fr1.pk).status == "resolved"
    again = api.post(API, {"action": "unhide", "ids": [fr1.pk]}, format="json").json()
    assert again["results"] == [{"id": fr1.pk, "status": "refused", "detail": "The conversation is not hidden."}]
    summaries = [e.changes["action"][1] for e in AuditEvent.objects.filter(action="inbox.bulk").order_by("id")]
    assert summaries == ["tag", "assign", "take", "move_team", "hide", "unhide", "resolve", "unhide"]


def test_api_bulk_bad_requests_change_nothing(inbox, convs, api_for):
    fr1, *_ = convs
    api = api_for(inbox.users.hub_admin)
    bad = [
        {"action": "explode", "ids": [fr1.pk]},
        {"action": "take", "ids": []},
        {"action": "take", "ids": list(range(1, 102))},
        {"action": "assign", "ids": [fr1.pk]},  # nobody to assign to
        {"action": "move", "ids": [fr1.pk], "team": inbox.vendor_team.pk},  # no reason
        {"action": "move", "ids": [fr1.pk], "team": 999999, "reason": "x"},  # no such team
        {"action": "tag", "ids": [fr1.pk]},  # no tags
        {"action": "tag", "ids": [fr1.pk], "tags": ["x" * 61]},  # a tag too long
    ]
    for data in bad:
        response = api.post(API, data, format="json")
        assert response.status_code == 400, (data, response.json())
    # a team the caller cannot see is no team
    response = api_for(inbox.users.fr_admin).post(
        API, {"action": "move", "ids": [fr1.pk], "team": inbox.vendor_team.pk, "reason": "x"}, format="json")
    assert response.status_code == 400 and "team" in response.json()
    assert not AuditEvent.objects.filter(action="inbox.bulk").exists() and not _tags(fr1)
    from rest_framework.test import APIClient

    assert APIClient().post(API, {"action": "take", "ids": [fr1.pk]}, format="json").status_code in (401, 403)


@pytest.mark.parametrize("who, done", [
    ("fr_agent", 2), ("fr_cm", 2), ("fr_admin", 2), ("europe_admin", 2), ("hub_admin", 2),
    ("es_agent", 0), ("es_admin", 0), ("moderator", 0), ("analyst", 0), ("nobody", 0),
])
def test_api_bulk_permission_matrix(inbox, convs, api_for, who, done):
    fr1, fr2, _ = convs
    response = api_for(getattr(inbox.users, who)).post(API, {"action": "tag", "ids": [fr1.pk, fr2.pk],
                                                             "tags": ["checked"]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["done"] == done and body["refused"] == 2 - done
    assert Conversation.objects.filter(pk__in=[fr1.pk, fr2.pk], tags__name="checked").count() == done
