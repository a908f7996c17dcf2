#!/usr/bin/env python
"""Where the insert time of messages goes on PostgreSQL: Django's bulk_create, COPY, and the text trigram index.

One command, local only, against a throwaway database (``dandelion_bench_tpl``, dropped at the end)::

    PYTHONPATH=src .venv/bin/python bench/insert_cost.py [--rows 20000] [--repeat 2]

The pipeline's worker is bound by the INSERTs of its batch (docs/benchmarks.md §1); this splits that cost, in one
run, alternating the variants so that a noisy machine weighs on each alike:

* ``bulk_create``: ``Message.objects.bulk_create`` in batches of 500 (what the pipeline does), every index of the
  current migrations in place;
* ``COPY``: the same rows through ``COPY … FROM STDIN`` (ids taken from the sequence first), each value prepared by
  its Django field as bulk_create does: what a COPY fast path would save;
* ``bulk_create, no text trigram index``: the search index on ``UPPER(text)`` (migration ``inbox.0002``) dropped;
* ``fastupdate off``: that index without its pending list (every row merged into the index at once).

Each line prints rows/s and the share of the wall time the Python process spent on the CPU (the rest is waiting
for PostgreSQL, on the same two cores here).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _benchlib as lib


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=20_000, help="messages inserted per variant (default 20,000)")
    ap.add_argument("--repeat", type=int, default=2, help="rounds of the alternating variants (default 2)")
    args = ap.parse_args()
    print(lib.machine(), flush=True)
    work = tempfile.mkdtemp(prefix="dbench-insert-")
    url, var = lib.setup_template("postgres", work)
    try:
        lib.django_setup(url, var)
        import django

        django.setup()
        return run(args.rows, args.repeat)
    finally:
        from django.db import connection

        connection.close()
        lib.pg_drop("dandelion_bench_tpl")
        lib.rmtree(work)


def run(n: int, repeat: int) -> int:
    from django.db import connection, transaction
    from django.utils import timezone

    from dandelion.assets.models import SocialAccount
    from dandelion.inbox.models import Contact, Conversation, Message

    account = SocialAccount.objects.order_by("pk").first()
    if lib.TWCS.exists():
        texts = [line.strip() for line in lib.TWCS.read_text(encoding="utf-8").splitlines()[1:5001]]
    else:
        texts = [f"My order {i} has still not arrived, can you help me please?" for i in range(5000)]

    def fresh_rows(tag: str) -> list:
        with connection.cursor() as cur:
            cur.execute("TRUNCATE inbox_message, inbox_conversation, inbox_contact, inbox_conversationevent CASCADE")
        contacts = Contact.objects.bulk_create([Contact(name=f"c{i}") for i in range(2000)])
        now = timezone.now()
        convs = Conversation.objects.bulk_create(
            [Conversation(account=account, contact=contacts[i % 2000], thread_key=f"t{i}", created_at=now,
                          updated_at=now, last_activity_at=now) for i in range(n // 2)], batch_size=500)
        return [Message(conversation=convs[i % len(convs)], account=account, network=account.network,
                        external_id=f"{tag}-{i}",
                        direction="inbound", text=texts[i % len(texts)], sent_at=now) for i in range(n)]

    def bulk(rows):
        for i in range(0, len(rows), 500):
            Message.objects.bulk_create(rows[i:i + 500])

    fields = list(Message._meta.concrete_fields)
    columns = ", ".join(f'"{f.column}"' for f in fields)

    def copy(rows):
        for i in range(0, len(rows), 500):
            chunk = rows[i:i + 500]
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("SELECT nextval(pg_get_serial_sequence('inbox_message', 'id')) "
                            "FROM generate_series(1, %s)", [len(chunk)])
                for obj, (pk,) in zip(chunk, cur.fetchall(), strict=True):
                    obj.pk = pk
                with cur.cursor.copy(f"COPY inbox_message ({columns}) FROM STDIN") as out:
                    for obj in chunk:
                        out.write_row([f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields])

    def timed(label: str, insert) -> None:
        rows = fresh_rows(label[:4])
        t, cpu = time.perf_counter(), time.process_time()
        insert(rows)
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        print(f"  {label:42} {n / wall:8,.0f} rows/s  (python on the CPU {100 * cpu / wall:3.0f} % of the time)",
              flush=True)

    def ddl(sql: str) -> None:
        with connection.cursor() as cur:
            cur.execute(sql)

    print(f"{n:,} messages per variant, batches of 500, {repeat} rounds:", flush=True)
    for _ in range(repeat):
        timed("bulk_create", bulk)
        timed("COPY", copy)
        ddl("DROP INDEX inbox_msg_text_trgm")
        timed("bulk_create, no text trigram index", bulk)
        ddl("CREATE INDEX inbox_msg_text_trgm ON inbox_message USING gin (UPPER(text) gin_trgm_ops)")
    ddl("ALTER INDEX inbox_msg_text_trgm SET (fastupdate = off)")
    timed("bulk_create, trigram index fastupdate off", bulk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
