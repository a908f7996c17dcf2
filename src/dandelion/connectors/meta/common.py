"""What the ``facebook`` and ``instagram`` connectors share: config, credentials, calls, webhook envelope, OAuth.

Credentials (stored encrypted by the assets services): ``page_access_token`` (a Page token obtained from a
long-lived user token: it does not expire, it is revoked by the user or by Meta), ``app_secret`` (Dandelion's Meta
app secret: checks ``X-Hub-Signature-256`` and signs calls with ``appsecret_proof``). The webhook's verify token is
the account's webhook secret (shown on the account's page). OAuth: see ``oauth``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

from dandelion.connectors import validation
from dandelion.connectors.base import (
    AccountRef,
    CheckResult,
    ConfigField,
    Connector,
    ModerationAction,
    ModerationResult,
    OAuthClient,
    OAuthGrant,
    utcnow,
)
from dandelion.connectors.errors import ConfigError, ConnectorError, PayloadError
from dandelion.connectors.meta import graph
from dandelion.connectors.tolerant import MIN_DATE, clamp_date

MIN_POLL_INTERVAL_S = 30
#: Longest comment/message text kept (Facebook allows 8,000 characters in a comment, Instagram 2,200).
MAX_TEXT = 8_000


def parse_time(value: Any, *, now: dt.datetime) -> dt.datetime:
    """Graph times: ISO 8601 with ``+0000`` offsets, or Unix seconds (webhooks), or milliseconds (Messenger)."""
    moment: dt.datetime | None = None
    if isinstance(value, bool):
        value = None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        try:
            moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
        except (OverflowError, OSError, ValueError):
            moment = None
    elif isinstance(value, str) and value:
        text = value[:40]
        if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
            text = f"{text[:-2]}:{text[-2:]}"
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            moment = None
    return clamp_date(moment, now=now)


def unix(moment: dt.datetime) -> int:
    return int(max(moment, MIN_DATE).timestamp())


class MetaConnector(Connector):
    """Base of the two Graph API connectors."""

    label = ""
    webhook_object: ClassVar[str] = ""
    oauth_instance = "https://www.facebook.com"  # meta.oauth.INSTANCE (imported lazily there)
    config_schema: ClassVar[Mapping[str, ConfigField]] = {
        "graph_version": ConfigField(str, False, "Graph API version (v21.0).", graph.GRAPH_VERSION),
        "timeout_s": ConfigField(float, False, "Network timeout, seconds.", 20.0),
        "poll_interval_s": ConfigField(
            int, False, "Seconds between polls (the webhook's fallback; at least 30).", 300
        ),
        "recent_posts": ConfigField(int, False, "Recent posts whose comments a poll reads (1 to 50).", 10),
        "backfill_hours": ConfigField(
            int, False, "Hours of comments read on the first poll (0: only new ones).", 24
        ),
        "app_id": ConfigField(
            str, False, "The Meta app the account is subscribed through (its webhooks: /hooks/app/<app id>/).", ""
        ),
    }
    poll_interval_s = 300

    def validate_config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        clean = super().validate_config(config)
        errors: dict[str, str] = {}
        version = clean["graph_version"]
        if not (version.startswith("v") and version[1:].replace(".", "", 1).isdigit()):
            errors["graph_version"] = "must look like v21.0"
        if clean["timeout_s"] <= 0:
            errors["timeout_s"] = "must be positive"
        if clean["poll_interval_s"] < MIN_POLL_INTERVAL_S:
            errors["poll_interval_s"] = f"must be at least {MIN_POLL_INTERVAL_S}"
        if not 1 <= clean["recent_posts"] <= 50:
            errors["recent_posts"] = "must be between 1 and 50"
        if not 0 <= clean["backfill_hours"] <= 24 * 30:
            errors["backfill_hours"] = "must be between 0 and 720"
        if errors:
            raise ConfigError(errors)
        return clean

    # --- calls ----------------------------------------------------------------------------------------------------
    def api(self, account: AccountRef, method: str, path: str, *, what: str = "", **kwargs: Any) -> Any:
        config = self.validate_config(account.config)
        return graph.call(
            account.id,
            method,
            path,
            token=account.credentials.get("page_access_token", ""),
            app_secret=account.credentials.get("app_secret", ""),
            timeout=config["timeout_s"],
            version=config["graph_version"],
            what=what,
            **kwargs,
        )

    def pages(
        self, account: AccountRef, path: str, *, params: Mapping[str, Any], what: str, max_pages: int = 5
    ) -> list[Any]:
        """Every item of a paged Graph edge (``data`` + ``paging.next``), at most ``max_pages`` pages."""
        items: list[Any] = []
        answer = self.api(account, "GET", path, params=params, what=what)
        for _page in range(max_pages):
            data = answer.get("data") if isinstance(answer, Mapping) else None
            items += data if isinstance(data, list) else []
            following = (answer.get("paging") or {}).get("next") if isinstance(answer, Mapping) else None
            if not isinstance(following, str) or not following or _page == max_pages - 1:
                break
            answer = self.api(account, "GET", following, what=what)
        return items

    @staticmethod
    def result(action: ModerationAction, target: str, detail: str) -> ModerationResult:
        return ModerationResult(
            action=action,
            target_external_id=target,
            performed_at=utcnow(),
            detail=detail,
        )

    # --- webhooks -------------------------------------------------------------------------------------------------
    def answer_challenge(self, account: AccountRef, params: Mapping[str, str]) -> tuple[str, str]:
        """Meta's subscription verification (``GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…``)."""
        return "text/plain", graph.answer_subscription(params, account.webhook_secret)

    def envelope(
        self, account: AccountRef, body: bytes, headers: Mapping[str, str]
    ) -> list[tuple[str, Mapping]]:
        """Signature checked, JSON decoded by the shared validator: ``[(path, entry), ...]`` for this account."""
        graph.verify_signature(body, headers, account.credentials.get("app_secret", ""))
        data = validation.load_json(body)
        if not isinstance(data, Mapping):
            raise PayloadError("must be a JSON object", "body")
        if data.get("object") != self.webhook_object:
            raise PayloadError(f"must be {self.webhook_object!r}", "object")
        entries = data.get("entry")
        if not isinstance(entries, list):
            raise PayloadError("must be a list", "entry")
        out = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                raise PayloadError("must be an object", f"entry[{index}]")
            if str(entry.get("id")) != account.external_id:  # another Page/account of the same app: not ours
                continue
            out.append((f"entry[{index}]", entry))
        return out

    def app_webhook_targets(self, account: AccountRef, body: bytes, headers: Mapping[str, str]) -> list[str]:
        """One delivery for the whole app (``/hooks/app/<app id>/``): signature checked with the app secret, the
        ids of the Pages / Instagram accounts its entries concern (``entry[].id``), distinct, in order."""
        graph.verify_signature(body, headers, account.credentials.get("app_secret", ""))
        data = validation.load_json(body)
        if not isinstance(data, Mapping):
            raise PayloadError("must be a JSON object", "body")
        entries = data.get("entry")
        if not isinstance(entries, list):
            raise PayloadError("must be a list", "entry")
        targets: list[str] = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                raise PayloadError("must be an object", f"entry[{index}]")
            target = validation.check_identifier(entry.get("id"), f"entry[{index}].id", required=True) or ""
            if target not in targets:
                targets.append(target)
        return targets

    # --- connecting -----------------------------------------------------------------------------------------------
    def oauth_register(self, *, instance: str, redirect_uri: str) -> OAuthClient:
        from dandelion.connectors.meta import oauth

        return oauth.register(redirect_uri)

    def oauth_authorize_url(self, client: OAuthClient, *, state: str) -> str:
        from dandelion.connectors.meta import oauth

        return oauth.authorize_url(client, state=state, scopes=self.oauth_scopes)

    def oauth_exchange(self, client: OAuthClient, *, code: str) -> OAuthGrant:
        from dandelion.connectors.meta import oauth

        return oauth.exchange(client, code=code, instagram=self.webhook_object == "instagram")

    oauth_scopes: ClassVar[tuple[str, ...]] = ()

    # --- check ----------------------------------------------------------------------------------------------------
    def check(self, account: AccountRef) -> list[CheckResult]:
        try:
            self.validate_config(account.config)
        except ConfigError as exc:
            return [CheckResult("config", False, str(exc))]
        results = [CheckResult("config", True, "valid")]
        results.append(
            CheckResult(
                "app secret",
                bool(account.credentials.get("app_secret")),
                "set" if account.credentials.get("app_secret") else "missing: webhooks cannot be verified",
            )
        )
        try:
            me = self.api(
                account,
                "GET",
                account.external_id,
                params={"fields": "id,name,username"},
                what="read the account",
            )
        except ConnectorError as exc:
            return [*results, CheckResult("token", False, f"{exc}{' (permanent)' if exc.permanent else ''}")]
        results.append(
            CheckResult("token", True, f"{me.get('name') or me.get('username')} (id {me.get('id')})")
        )
        usage = graph.last_usage.get(account.id)
        results.append(
            CheckResult(
                "rate limit",
                graph.paused_for(account.id) == 0,
                f"usage {usage}" if usage else "no usage headers seen",
            )
        )
        return results
