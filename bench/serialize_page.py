"""One page of the REST conversation list, in process: DRF's plain ``ModelSerializer`` against
``ConversationSerializer`` (``FastReadModelSerializer``), and every related column fetched against the list's
columns (``inbox.querysets.for_conversation_list``), alternated in one run, medians of many repeats.

Reads the database that ``bench/queue_at_size.py --keep`` leaves (``dandelion_bench_queue``); writes nothing::

    .venv/bin/python bench/queue_at_size.py --conversations 200000 --repeat 5 --keep --no-explain   # once
    PYTHONPATH=src .venv/bin/python bench/serialize_page.py [--repeat 300] [--rows 50]

The page is the France helpers' open queue as the helper agent sees it (the bench's "API team queue" case), rows
fetched once for the serialisation figures.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _benchlib as lib

DB_NAME = "dandelion_bench_queue"


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t))
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=300, help="timed repeats per variant and round (default 300)")
    ap.add_argument("--rows", type=int, default=50, help="rows on the page (default 50, the API's page size)")
    ap.add_argument("--rounds", type=int, default=3, help="alternations of the variants (default 3)")
    args = ap.parse_args()
    lib.django_setup(f"{lib.PG_ADMIN_URL}/{DB_NAME}")
    print(f"machine: {lib.machine()}")

    from django.contrib.auth import get_user_model
    from django.db.models import F
    from rest_framework import serializers

    from dandelion.inbox.api.serializers import ConversationSerializer
    from dandelion.inbox.models import Conversation
    from dandelion.inbox.querysets import for_conversation_list
    from dandelion.orgs.models import Team

    attrs = {name: copy.deepcopy(f) for name, f in ConversationSerializer._declared_fields.items()}
    attrs["Meta"] = ConversationSerializer.Meta
    plain = type("PlainConversationSerializer", (serializers.ModelSerializer,), attrs)

    user = get_user_model().objects.get(username="hugo.helper")
    team = Team.objects.get(name="France helpers")
    queue = Conversation.objects.restrict(user, "view").filter(team=team, status="open").order_by(
        F("sla_due_at").asc(nulls_last=True), "-last_activity_at", "id").prefetch_related("tags")
    every_column = queue.select_related("account", "contact", "team", "assignee")
    list_columns = for_conversation_list(queue)
    rows = list(every_column[:args.rows])
    assert ConversationSerializer(rows, many=True).data == plain(rows, many=True).data
    assert ConversationSerializer(list(list_columns[:args.rows]), many=True).data == \
        ConversationSerializer(rows, many=True).data
    variants = [
        ("serialise, DRF ModelSerializer", lambda: plain(rows, many=True).data, args.repeat),
        ("serialise, FastReadModelSerializer", lambda: ConversationSerializer(rows, many=True).data, args.repeat),
        ("fetch, every related column", lambda: list(every_column[:args.rows]), max(20, args.repeat // 10)),
        ("fetch, the list's columns", lambda: list(list_columns[:args.rows]), max(20, args.repeat // 10)),
    ]
    print(f"{len(rows)} rows; median ms per page, {args.rounds} rounds alternating:")
    for label, fn, repeat in variants:
        fn()
    results: dict[str, list[float]] = {label: [] for label, _, _ in variants}
    for _ in range(args.rounds):
        for label, fn, repeat in variants:
            results[label].append(_median_ms(fn, repeat))
    for label, values in results.items():
        print(f"  {label:38} " + "  ".join(f"{v:6.2f}" for v in values))
    a, b = (statistics.median(results[k]) for k in ("serialise, DRF ModelSerializer",
                                                    "serialise, FastReadModelSerializer"))
    c, d = (statistics.median(results[k]) for k in ("fetch, every related column", "fetch, the list's columns"))
    print(f"serialise: {b / a:.2f} of DRF's time ({a:.2f} -> {b:.2f} ms); fetch: {d / c:.2f} ({c:.2f} -> {d:.2f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
