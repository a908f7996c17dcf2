"""The schema documents the error answers centrally (``dandelion.api.schema``), and the API answers them in JSON."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from dandelion.api.schema import field_may_be_blank, field_may_be_null

WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def openapi():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_operation_documents_its_error_answers(openapi):
    operations = [(path, method, op) for path, item in openapi["paths"].items() for method, op in item.items()]
    assert len(operations) > 50
    for path, method, op in operations:
        codes = set(op["responses"])
        assert {"400", "401", "403", "404"} <= codes, (method, path, codes)
        assert ("409" in codes) == (method in WRITES), (method, path, codes)
        assert any(code.startswith("2") for code in codes), (method, path, codes)
    schemas = openapi["components"]["schemas"]
    assert schemas["Error"]["required"] == ["detail"]
    assert {"type": "array", "items": {"type": "string"}} in schemas["ValidationError"]["oneOf"]


def test_read_only_fields_that_can_be_null_or_blank_say_so(openapi):
    from dandelion.inbox.api.serializers import ConversationSerializer, MessageSerializer
    from dandelion.orgs.api.serializers import TeamSerializer

    message = MessageSerializer().fields
    assert field_may_be_null(message["author_user"])  # default=None
    assert not field_may_be_null(ConversationSerializer().fields["account_handle"])  # account is required
    assert field_may_be_blank(TeamSerializer().fields["email"])
    assert not field_may_be_null(serializers.CharField())  # writable: allow_null decides
    props = openapi["components"]["schemas"]["Message"]["properties"]
    assert props["author_user"]["nullable"] is True
    email = openapi["components"]["schemas"]["Team"]["properties"]["email"]
    assert {"type": "string", "maxLength": 0} in email["oneOf"]


def test_account_status_documents_what_is_read_and_what_may_be_set(openapi):
    schemas = openapi["components"]["schemas"]
    read = schemas["SocialAccount"]["properties"]["status"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
    written = schemas["SocialAccountRequest"]["properties"]["status"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
    assert "archived" in schemas[read]["enum"]
    assert "archived" not in schemas[written]["enum"]


def test_id_filters_are_bounded_integers(openapi):
    parameters = {p["name"]: p for p in openapi["paths"]["/api/v1/teams/"]["get"]["parameters"]}
    assert parameters["within"]["schema"]["type"] == "integer"
    assert parameters["unit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


@pytest.mark.django_db
def test_an_unrouted_api_path_answers_json_and_a_page_html(client_for, org):
    client = client_for(org.users.hub_admin)
    response = client.get("/api/v1/accounts/not-an-id/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_account_export_answers_an_error_in_json(client_for, org):
    response = client_for(org.users.hub_admin).get("/api/v1/accounts/export/?format=nope")
    assert response.status_code == 404
    assert response.json()["detail"]
