"""Helpers for the account registry's tests (CSV files, uploads)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dandelion.assets.csvio import COLUMNS


def csv_bytes(rows: list[dict], columns=COLUMNS, *, encoding="utf-8") -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buf.getvalue().encode(encoding)


def upload(content: bytes, name: str = "accounts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def row(n: int, **overrides) -> dict:
    base = {
        "network": "facebook", "handle": f"@acct{n}", "external_id": f"imp-{n}", "display_name": f"Account {n}",
        "url": f"https://www.facebook.com/acct{n}", "owner_unit": "france", "owner": "", "status": "active",
        "languages": "fr;en", "country": "FR", "followers": str(n * 10),
    }
    base.update(overrides)
    return base


@pytest.fixture
def make_csv():
    return csv_bytes


PLAINTEXT = "s3cr3t-PLAINTEXT-token-value"
