"""The SAML 2.0 service provider, on pysaml2 (xmlsec1 from Debian checks the signatures): SP-initiated sign-in
with the HTTP-Redirect binding for the request and HTTP-POST for the response.

A SAML provider is an :class:`IdentityProvider` with ``protocol = "saml"``: its ``issuer`` is the identity
provider's entity id and ``saml_metadata_xml`` its metadata (signing certificate and single sign-on address), pasted
by the hub. Dandelion's own entity id is its metadata address, ``<base>/sso/<slug>/saml/metadata/``, and the
assertion consumer service is ``<base>/sso/<slug>/saml/acs/``.

Checked on every response (else a :class:`SignInRefused` with a reason code, audited by the caller): the XML
signature of the response or of its assertion against the certificate of the metadata (an unsigned one is refused),
the issuer, the audience (our entity id), the destination, the validity window (``NotBefore``/``NotOnOrAfter``,
with ``DANDELION_SSO_LEEWAY_SECONDS`` of clock skew), and ``InResponseTo``: it must answer a request this browser
session started (unsolicited, IdP-initiated responses are refused) and each request id is consumed by its first
response, so a replayed response is refused. Encrypted assertions are not supported (documented).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.response import IncorrectlySigned, StatusError, UnsolicitedResponse
from saml2.sigver import SignatureError, get_xmlsec_binary
from saml2.validate import ResponseLifetimeExceed, ToEarly

from dandelion.sso.exceptions import SignInRefused
from dandelion.sso.models import IdentityProvider, SamlRequest

logger = logging.getLogger(__name__)

COOKIE = "dandelion_saml"
REQUEST_SECONDS = 600  # a sign-in started more than ten minutes ago is refused
MAX_RESPONSE_BYTES = 256 * 1024
MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"


def _xmlsec() -> str:
    return getattr(settings, "DANDELION_SAML_XMLSEC_BINARY", "") or get_xmlsec_binary(["/usr/bin", "/usr/local/bin"])


def entity_id(request, provider: IdentityProvider) -> str:
    return request.build_absolute_uri(reverse("sso:saml-metadata", args=[provider.slug]))


def acs_url(request, provider: IdentityProvider) -> str:
    return request.build_absolute_uri(reverse("sso:saml-acs", args=[provider.slug]))


def metadata_entity_id(xml: str) -> str:
    """The ``entityID`` of an identity provider's metadata, or a ValueError saying what is wrong with it."""
    try:
        root = ElementTree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    except ElementTree.ParseError as e:
        raise ValueError(f"The metadata is not well-formed XML ({e}).") from e
    if root.tag == f"{{{MD_NS}}}EntitiesDescriptor":
        found = root.findall(f"{{{MD_NS}}}EntityDescriptor")
        if len(found) != 1:
            raise ValueError("The metadata must describe exactly one identity provider.")
        root = found[0]
    if root.tag != f"{{{MD_NS}}}EntityDescriptor":
        raise ValueError("This is not SAML 2.0 metadata (no EntityDescriptor).")
    idp = root.find(f"{{{MD_NS}}}IDPSSODescriptor")
    if idp is None:
        raise ValueError("The metadata describes no identity provider (no IDPSSODescriptor).")
    if idp.find(f"{{{MD_NS}}}SingleSignOnService") is None:
        raise ValueError("The metadata gives no single sign-on address (SingleSignOnService).")
    if not idp.findall(f".//{{{MD_NS}}}KeyDescriptor"):
        raise ValueError("The metadata gives no signing certificate (KeyDescriptor).")
    entity = (root.get("entityID") or "").strip()
    if not entity:
        raise ValueError("The metadata has no entityID.")
    return entity


def _config(request, provider: IdentityProvider) -> SPConfig:
    config = SPConfig()
    config.load({
        "entityid": entity_id(request, provider),
        "xmlsec_binary": _xmlsec(),
        "metadata": {"inline": [provider.saml_metadata_xml]},
        "accepted_time_diff": int(getattr(settings, "DANDELION_SSO_LEEWAY_SECONDS", 60)),
        "allow_unknown_attributes": True,
        "service": {"sp": {
            "name": "Dandelion",
            "endpoints": {"assertion_consumer_service": [(acs_url(request, provider), BINDING_HTTP_POST)]},
            "allow_unsolicited": False,
            "authn_requests_signed": False,
            "want_response_signed": False,
            "want_assertions_signed": False,
            "want_assertions_or_response_signed": True,
            "name_id_format": [saml.NAMEID_FORMAT_PERSISTENT, saml.NAMEID_FORMAT_UNSPECIFIED,
                               saml.NAMEID_FORMAT_EMAILADDRESS],
        }},
    })
    return config


def _client(request, provider: IdentityProvider) -> Saml2Client:
    try:
        return Saml2Client(config=_config(request, provider))
    except Exception as e:  # a broken metadata document must not be a 500
        raise SignInRefused(_("%(name)s's SAML metadata cannot be used (%(name2)s).") % {"name": provider.name, "name2": type(e).__name__},
                            reason="provider_misconfigured", status=502) from e


def sp_metadata(request, provider: IdentityProvider) -> str:
    """Dandelion's service provider metadata for this provider (to give to the identity provider)."""
    return str(entity_descriptor(_config(request, provider)))


def _browser_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def set_browser_cookie(response, request, token: str) -> None:
    """The random value binding the sign-in to this browser. The identity provider posts the response back
    cross-site: on HTTPS the cookie is ``SameSite=None; Secure`` so that it comes with that POST; on plain HTTP
    (development, the identity provider on the same site) ``Lax``."""
    secure = request.is_secure()
    response.set_cookie(COOKIE, token, max_age=REQUEST_SECONDS, httponly=True, secure=secure,
                        samesite="None" if secure else "Lax", path="/sso/")


def begin(request, provider: IdentityProvider, *, next_url: str = "") -> tuple[str, str]:
    """Start a sign-in: record the request (bound to a random browser value), return the address to send the
    browser to and the value for its cookie (:func:`set_browser_cookie`)."""
    client = _client(request, provider)
    try:
        request_id, info = client.prepare_for_authenticate(entityid=provider.issuer,
                                                           binding=BINDING_HTTP_REDIRECT)
    except Exception as e:
        raise SignInRefused(_("%(name)s's SAML metadata gives no usable sign-on address (%(name2)s).") % {"name": provider.name, "name2": type(e).__name__},
                            reason="provider_misconfigured", status=502) from e
    token = request.COOKIES.get(COOKIE) or secrets.token_urlsafe(32)
    cutoff = timezone.now() - timedelta(seconds=REQUEST_SECONDS)
    SamlRequest.objects.filter(created_at__lt=cutoff).delete()
    SamlRequest.objects.create(request_id=request_id, provider=provider, browser_key=_browser_key(token),
                               next_url=next_url[:500])
    return dict(info["headers"])["Location"], token


def complete(request, provider: IdentityProvider) -> tuple[dict[str, Any], str]:
    """Check the posted ``SAMLResponse`` and return ``(claims, next_url)``; the request it answers is consumed."""
    raw = request.POST.get("SAMLResponse", "")
    if not raw or len(raw) > MAX_RESPONSE_BYTES * 4 // 3 + 4:
        raise SignInRefused(_("No SAML response, or one too large."), reason="bad_response", status=400)
    try:
        base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as e:
        raise SignInRefused(_("The SAML response is not base64."), reason="bad_response", status=400) from e
    key = _browser_key(request.COOKIES.get(COOKIE, ""))
    cutoff = timezone.now() - timedelta(seconds=REQUEST_SECONDS)
    pending = dict(SamlRequest.objects.filter(provider=provider, browser_key=key, created_at__gte=cutoff)
                   .values_list("request_id", "next_url"))
    client = _client(request, provider)
    try:
        authn = client.parse_authn_request_response(raw, BINDING_HTTP_POST, outstanding=pending)
    except UnsolicitedResponse as e:
        raise SignInRefused(_("This SAML response answers no sign-in started in this browser (unsolicited, expired "
                            "or replayed)."), reason="bad_state", status=400) from e
    except (IncorrectlySigned, SignatureError) as e:
        raise SignInRefused(_("The SAML response's signature is not valid."), reason="bad_signature") from e
    except (ResponseLifetimeExceed, ToEarly) as e:
        raise SignInRefused(_("The SAML assertion is expired or not yet valid."), reason="expired") from e
    except StatusError as e:
        raise SignInRefused(_("The identity provider did not sign you in."), reason="provider_error", status=400) from e
    except Exception as e:  # pysaml2 raises many kinds (SAMLError, ValueError, XML errors…): each is a refusal
        reason = _reason_of(e)
        logger.info("saml response refused (%s): %s", type(e).__name__, e)
        raise SignInRefused(_("The SAML response was refused (%(reason)s).") % {"reason": reason}, reason=reason) from e
    if authn is None:
        raise SignInRefused(_("The SAML response could not be read."), reason="bad_response", status=400)
    if authn.issuer() != provider.issuer:
        raise SignInRefused(_("The SAML response comes from another identity provider."), reason="issuer")
    # consume the request: of two concurrent posts of one response, only one finds it
    if not SamlRequest.objects.filter(request_id=authn.in_response_to, provider=provider,
                                      browser_key=key).delete()[0]:
        raise SignInRefused(_("This SAML response was used already."), reason="bad_state", status=400)
    return claims_of(authn), pending.get(authn.in_response_to, "")


def _reason_of(error: Exception) -> str:
    text = f"{type(error).__name__} {error}".lower()
    if "audience" in text:
        return "audience"
    if "signature" in text or "signed" in text:
        return "bad_signature"
    if "destination" in text:
        return "destination"
    if "issuer" in text:
        return "issuer"
    if "time" in text or "expired" in text or "lifetime" in text:
        return "expired"
    return "bad_response"


def claims_of(authn) -> dict[str, Any]:
    """The assertion as claims: ``sub`` is the NameID; each attribute under its name (a list), and under the last
    part of a URI name too (``…/claims/groups`` → ``groups``); ``email`` from the usual attributes when absent."""
    name_id = authn.name_id
    claims: dict[str, Any] = {"sub": str(getattr(name_id, "text", "") or "").strip()}
    for name, values in (authn.ava or {}).items():
        values = [str(v) for v in (values if isinstance(values, list) else [values])]
        claims[name] = values
        short = name.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        claims.setdefault(short, values)
    if "email" not in claims:
        for key in ("mail", "emailaddress", "emailAddress", "Email"):
            if claims.get(key):
                claims["email"] = claims[key][0]
                break
    for key in ("email", "givenname", "surname"):
        if isinstance(claims.get(key), list):
            claims[key] = claims[key][0] if claims[key] else ""
    claims.setdefault("given_name", claims.get("givenName", [""])[0] if claims.get("givenName") else
                      claims.get("givenname", ""))
    claims.setdefault("family_name", claims.get("sn", [""])[0] if claims.get("sn") else claims.get("surname", ""))
    if getattr(name_id, "format", "") == saml.NAMEID_FORMAT_EMAILADDRESS and "email" not in claims:
        claims["email"] = claims["sub"]
    return claims
