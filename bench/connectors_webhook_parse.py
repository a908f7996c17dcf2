"""Webhook parsing throughput of the Facebook and X connectors (pure Python, no network, no database): 50 signed
deliveries of 100 items each, parsed and validated. Run: PYTHONPATH=src .venv/bin/python bench/connectors_webhook_parse.py"""

import copy
import hashlib
import hmac
import json
import time
from pathlib import Path

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef

base = json.loads(Path("tests/connectors/fixtures/facebook/webhook_feed_comment.json").read_text())
change = base["entry"][0]["changes"][0]
payload = {"object": "page", "entry": [{"id": "1234567890", "time": 1, "changes": []}]}
for i in range(100):
    c = copy.deepcopy(change)
    c["value"]["comment_id"] = f"111_{i}"
    payload["entry"][0]["changes"].append(c)
body = json.dumps(payload).encode()
h = {"X-Hub-Signature-256": "sha256=" + hmac.new(b"s", body, hashlib.sha256).hexdigest()}
acc = AccountRef(
    id=1, network="facebook", external_id="1234567890", handle="h", credentials={"app_secret": "s"}
)
fb = registry.get("facebook")
t = time.perf_counter()
n = 0
for _ in range(50):
    n += len(fb.parse_webhook(acc, body, h))
print(f"facebook parse_webhook: {n / (time.perf_counter() - t):.0f} events/s (100-comment deliveries)")
import base64

xb = json.loads(Path("tests/connectors/fixtures/x/aaa_tweet_create.json").read_text())
tw = xb["tweet_create_events"][0]
xb["tweet_create_events"] = [dict(tw, id_str=str(10**18 + i)) for i in range(100)]
body = json.dumps(xb).encode()
h = {
    "x-twitter-webhooks-signature": "sha256="
    + base64.b64encode(hmac.new(b"s", body, hashlib.sha256).digest()).decode()
}
xa = AccountRef(
    id=2, network="x", external_id="1500000000000000000", handle="h", credentials={"consumer_secret": "s"}
)
x = registry.get("x")
t = time.perf_counter()
n = 0
for _ in range(50):
    n += len(x.parse_webhook(xa, body, h))
print(f"x parse_webhook: {n / (time.perf_counter() - t):.0f} events/s (100-tweet deliveries)")
