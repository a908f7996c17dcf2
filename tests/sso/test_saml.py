"""SAML 2.0 sign-in against a real SAML identity provider: pysaml2's own IdP (``saml2.server.Server``) with its
own key pair, signing its responses with xmlsec1 as Keycloak, Okta or Entra ID would. Dandelion's service provider
metadata is read from its own endpoint; the request goes out with the HTTP-Redirect binding and the signed response
comes back to the assertion consumer service with HTTP-POST.

Refused, each with its audit row and nothing provisioned: a tampered (badly signed) response, an unsigned one, a
response for another audience, an expired assertion, an unsolicited one, a replayed one, one from another browser,
a response signed by another identity provider's key."""

from __future__ import annotations

import base64
import datetime as dt
import time
from urllib.parse import parse_qs, urlparse

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.contrib.auth import get_user_model
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.config import IdPConfig, SPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NameID
from saml2.server import Server

from dandelion.core.models import AuditEvent
from dandelion.orgs.choices import Role
from dandelion.orgs.models import Membership
from dandelion.sso import services
from dandelion.sso.choices import Protocol
from dandelion.sso.exceptions import DandelionError
from dandelion.sso.models import ExternalIdentity, IdentityProvider, SamlRequest

pytestmark = pytest.mark.django_db

IDP_ENTITY = "https://idp.example.test/saml/metadata"
SSO_URL = "https://idp.example.test/saml/sso"
ACS = "http://testserver/sso/corp/saml/acs/"
SP_ENTITY = "http://testserver/sso/corp/saml/metadata/"
OTHER_SP = "https://other-sp.example/metadata"
GROUPS = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"


def _key_pair(tmp_path, name: str):
    key_file, cert_file = tmp_path / f"{name}.key", tmp_path / f"{name}.crt"
    if key_file.exists():  # one key pair per identity provider name
        return str(key_file), str(cert_file)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


def other_sp_metadata() -> str:
    """Another service provider (same ACS address, another entity id): a response made for it has the wrong
    audience for Dandelion."""
    config = SPConfig()
    config.load({"entityid": OTHER_SP, "xmlsec_binary": "/usr/bin/xmlsec1",
                 "service": {"sp": {"endpoints": {"assertion_consumer_service": [(ACS, BINDING_HTTP_POST)]}}}})
    return str(entity_descriptor(config))


def _idp_config(tmp_path, name: str, sp_metadata: str | None, entity: str = IDP_ENTITY) -> IdPConfig:
    key_file, cert_file = _key_pair(tmp_path, name)
    config = IdPConfig()
    config.load({
        "entityid": entity, "key_file": key_file, "cert_file": cert_file,
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "metadata": {"inline": [sp_metadata, other_sp_metadata()]} if sp_metadata else {},
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [(SSO_URL, BINDING_HTTP_REDIRECT)]},
            "name_id_format": [saml.NAMEID_FORMAT_PERSISTENT],
            "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None,
                                   "name_form": saml.NAME_FORMAT_URI}},
        }},
    })
    return config


def idp_metadata_xml(tmp_path, name="idp", entity=IDP_ENTITY) -> str:
    return str(entity_descriptor(_idp_config(tmp_path, name, None, entity)))


class Idp:
    """The identity provider: reads Dandelion's metadata, answers its requests with signed responses."""

    def __init__(self, tmp_path, client, provider, name="idp"):
        self.client = client
        sp_metadata = client.get(f"/sso/{provider.slug}/saml/metadata/").content.decode()
        self.tmp_path, self.name = tmp_path, name
        self.server = Server(config=_idp_config(tmp_path, name, sp_metadata))
        self.server.config.setattr("idp", "signing_algorithm", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")

    def start(self, url="/sso/corp/start/"):
        """The browser asks Dandelion to sign in: follow the redirect to the IdP, return the request's id."""
        response = self.client.get(url)
        assert response.status_code == 302, response.content
        location = response["Location"]
        assert location.startswith(SSO_URL)
        query = parse_qs(urlparse(location).query)
        request = self.server.parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        return request.message.id

    def response(self, in_response_to, *, user="marta", groups=("es-agents",), audience=SP_ENTITY,
                 sign_response=True, sign_assertion=True, **kwargs) -> str:
        identity = {"mail": [f"{user}@agency.example"], "uid": [user], "givenName": ["Marta"], "sn": ["Ruiz"],
                    GROUPS: list(groups)}
        xml = self.server.create_authn_response(
            identity=identity, in_response_to=in_response_to, destination=ACS, sp_entity_id=audience,
            name_id=NameID(format=saml.NAMEID_FORMAT_PERSISTENT, text=f"id-{user}"),
            sign_response=sign_response, sign_assertion=sign_assertion, userid=user,
            authn={"class_ref": saml.AUTHN_PASSWORD_PROTECTED, "authn_auth": IDP_ENTITY}, **kwargs)
        return base64.b64encode(str(xml).encode()).decode()

    def post(self, encoded: str, client=None):
        return (client or self.client).post("/sso/corp/saml/acs/", {"SAMLResponse": encoded})


@pytest.fixture
def saml_provider(org, tmp_path):
    p = services.create_provider(actor=org.users.hub_admin, name="Corp SAML", slug="corp", protocol=Protocol.SAML,
                                 saml_metadata_xml=idp_metadata_xml(tmp_path), bound_unit=org.spain,
                                 username_claim="uid")
    services.create_rule(actor=org.users.hub_admin, provider=p, value="es-agents", unit=org.spain,
                         role=Role.HELPER_AGENT, team=org.es_team)
    return p


@pytest.fixture
def idp(tmp_path, client, saml_provider):
    return Idp(tmp_path, client, saml_provider)


def refusals(reason=None):
    rows = AuditEvent.objects.filter(action="sso.signin.refused")
    return [r.changes["reason"] for r in rows] if reason is None else rows.filter(changes__reason=reason).count()


def test_the_provider_takes_its_issuer_from_the_metadata(saml_provider):
    assert saml_provider.issuer == IDP_ENTITY and saml_provider.client_id == ""


def test_dandelion_publishes_its_service_provider_metadata(client, saml_provider):
    response = client.get("/sso/corp/saml/metadata/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/samlmetadata+xml")
    body = response.content.decode()
    assert f'entityID="{SP_ENTITY}"' in body and ACS in body and BINDING_HTTP_POST in body


def test_first_sign_in_provisions_the_person_with_the_mapped_role(org, client, idp):
    request_id = idp.start("/sso/corp/start/?next=/inbox/")
    response = idp.post(idp.response(request_id))
    assert response.status_code == 302 and response["Location"] == "/inbox/", response.content
    user = get_user_model().objects.get(username="marta")
    assert user.email == "marta@agency.example" and (user.first_name, user.last_name) == ("Marta", "Ruiz")
    assert list(Membership.objects.filter(user=user, is_active=True).values_list("unit", "role", "team")) == [
        (org.spain.pk, Role.HELPER_AGENT, org.es_team.pk)]
    assert ExternalIdentity.objects.get(user=user).subject == "id-marta"
    assert client.get("/inbox/").status_code == 200  # signed in
    assert not SamlRequest.objects.exists()  # the request was consumed
    assert AuditEvent.objects.filter(action="sso.signin").exists()


def test_a_replayed_response_is_refused(client, idp):
    encoded = idp.response(idp.start())
    assert idp.post(encoded).status_code == 302
    client.logout()
    again = idp.post(encoded)
    assert again.status_code == 400 and refusals("bad_state") == 1


def test_an_unsolicited_response_is_refused(client, idp):
    response = idp.post(idp.response("id-never-asked"))
    assert response.status_code == 400 and refusals("bad_state") == 1
    assert not get_user_model().objects.filter(username="marta").exists()


def test_a_response_posted_from_another_browser_is_refused(client, idp, django_user_model):
    from django.test import Client

    encoded = idp.response(idp.start())
    response = idp.post(encoded, client=Client())  # no cookie of the browser that started the sign-in
    assert response.status_code == 400 and refusals("bad_state") == 1
    assert not django_user_model.objects.filter(username="marta").exists()


def test_a_tampered_response_is_refused(idp, django_user_model):
    xml = base64.b64decode(idp.response(idp.start())).decode()
    assert "es-agents" in xml
    tampered = base64.b64encode(xml.replace("es-agents", "es-admins").encode()).decode()
    response = idp.post(tampered)
    assert response.status_code == 403 and refusals() == ["bad_signature"]
    assert not django_user_model.objects.filter(username="marta").exists()


def test_an_unsigned_response_is_refused(idp, django_user_model):
    response = idp.post(idp.response(idp.start(), sign_response=False, sign_assertion=False))
    assert response.status_code == 403 and len(refusals()) == 1
    assert not django_user_model.objects.filter(username="marta").exists()


def test_a_response_signed_with_another_key_is_refused(tmp_path, client, saml_provider, django_user_model):
    impostor = Idp(tmp_path, client, saml_provider, name="impostor")  # same entity id, its own key
    response = impostor.post(impostor.response(impostor.start()))
    assert response.status_code == 403 and refusals() == ["bad_signature"]
    assert not django_user_model.objects.filter(username="marta").exists()


def test_a_response_for_another_audience_is_refused(idp, django_user_model):
    response = idp.post(idp.response(idp.start(), audience=OTHER_SP))
    assert response.status_code == 403 and refusals() == ["audience"]
    assert not django_user_model.objects.filter(username="marta").exists()


def test_an_expired_assertion_is_refused(idp, django_user_model, monkeypatch):
    encoded = idp.response(idp.start())
    # an hour later (the IdP's assertions live five minutes): pysaml2 reads the clock through time_util.utc_now
    monkeypatch.setattr("saml2.time_util.utc_now", lambda: int(time.time()) + 3600)
    response = idp.post(encoded)
    assert response.status_code in (400, 403) and len(refusals()) == 1
    assert not django_user_model.objects.filter(username="marta").exists()


def test_a_person_no_rule_maps_gets_no_account(idp, django_user_model):
    response = idp.post(idp.response(idp.start(), groups=("staff",)))
    assert response.status_code == 403 and refusals() == ["no_role"]
    assert not django_user_model.objects.filter(username="marta").exists()


def test_bad_input_to_the_acs_is_refused_cleanly(client, saml_provider):
    assert client.post("/sso/corp/saml/acs/", {}).status_code == 400
    assert client.post("/sso/corp/saml/acs/", {"SAMLResponse": "%%% not base64"}).status_code == 400
    garbage = base64.b64encode(b"<not-saml/>").decode()
    assert client.post("/sso/corp/saml/acs/", {"SAMLResponse": garbage}).status_code in (400, 403)
    assert client.get("/sso/corp/saml/acs/").status_code == 405


def test_saml_endpoints_of_an_oidc_provider_are_404(client, org):
    services.create_provider(actor=org.users.hub_admin, name="OIDC", slug="oidc", issuer="https://op.example",
                             client_id="c", client_secret="s", bound_unit=org.spain)
    assert client.get("/sso/oidc/saml/metadata/").status_code == 404
    assert client.post("/sso/oidc/saml/acs/", {"SAMLResponse": "x"}).status_code == 404


@pytest.mark.parametrize("metadata, message", [
    ("", "not well-formed"),
    ("<x/>", "not SAML 2.0 metadata"),
    ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="e"/>', "no identity provider"),
])
def test_bad_metadata_is_refused_with_a_reason(org, metadata, message):
    with pytest.raises(DandelionError, match=message):
        services.create_provider(actor=org.users.hub_admin, name="Bad", slug="bad", protocol=Protocol.SAML,
                                 saml_metadata_xml=metadata, bound_unit=org.spain)
    assert not IdentityProvider.objects.filter(slug="bad").exists()


def test_the_metadata_entity_id_must_match_a_given_issuer(org, tmp_path):
    with pytest.raises(DandelionError, match="entity id"):
        services.create_provider(actor=org.users.hub_admin, name="Bad", slug="bad", protocol=Protocol.SAML,
                                 issuer="https://another.example", saml_metadata_xml=idp_metadata_xml(tmp_path),
                                 bound_unit=org.spain)


def test_the_hub_adds_a_saml_provider_through_its_pages(org, client_for, tmp_path):
    hub = client_for(org.users.hub_admin)
    form = {"protocol": "saml", "name": "Corp", "slug": "corp", "scopes": "", "username_claim": "uid",
            "bound_unit": org.spain.pk, "is_active": "on"}
    refused = hub.post("/sso/providers/new/", form)
    assert refused.status_code == 400 and "Paste the identity provider" in refused.content.decode()
    response = hub.post("/sso/providers/new/", {**form, "saml_metadata_xml": idp_metadata_xml(tmp_path)})
    assert response.status_code == 302, response.content.decode()[:2000]
    provider = IdentityProvider.objects.get(slug="corp")
    assert provider.protocol == Protocol.SAML and provider.issuer == IDP_ENTITY
    page = hub.get(provider.get_absolute_url()).content.decode()
    assert 'id="saml-metadata"' in page and "/sso/corp/saml/acs/" in page and 'id="redirect-uri"' not in page
    edit = hub.get(f"/sso/providers/{provider.pk}/edit/").content.decode()
    assert "saml_metadata_xml" in edit and 'name="client_id"' not in edit


def test_pysaml2_is_loaded_only_when_a_saml_provider_is_used():
    """Start-up (settings, every URL, the sign-in views) does not import pysaml2: it costs seconds per process."""
    import subprocess
    import sys

    code = (
        "import os, sys, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'dandelion.config.settings')\n"
        "django.setup()\n"
        "from django.urls import get_resolver\n"
        "get_resolver().url_patterns\n"
        "import dandelion.sso.views\n"
        "print('saml2' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False"
