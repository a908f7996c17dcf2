"""Community search at size: p50/p95 of ``community.search`` over N entries (articles and answers) on PostgreSQL,
and the relevance of a small judged set (top-3 holds the expected article).

    PYTHONPATH=src .venv/bin/python bench/community_search.py --rows 100000

Creates the throwaway database ``dandelion_bench_community`` (dropped at the end unless --keep), migrates it,
loads N filler entries written from a social-media vocabulary (so that the queries' words are common in the
filler too) plus the judged articles, builds the tsvectors, then times each judged query ``--repeat`` times as a
France community manager (the scope filter included). ``--keep`` leaves the database; ``--reuse`` times the
queries again on it without reloading (to compare two versions of the code on the same rows)."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _benchlib import PG_ADMIN_URL, check_local, pg_create, pg_drop

DB = "dandelion_bench_community"
_VOCAB_TEXT = ("post reply comment customer brand campaign launch crisis escalation moderation spam troll live video "
         "caption hashtag influencer giveaway contest legal terms notary review rating complaint refund delivery "
         "schedule calendar report metrics engagement reach followers story reel channel page account guideline "
         "tone voice template checklist playbook partner agency approval workflow translation language french "
         "english community manager hub spoke team shift weekend holiday budget paid boost audience target")
VOCAB = _VOCAB_TEXT.split()

# (title, body, query): the query is what a person would type to find the article
JUDGED = (
    ("Crisis escalation checklist", ("Escalate a viral complaint to the PR manager on duty within 15 minutes; "
                                     "never delete the post."), "viral complaint escalate PR"),
    ("Holding statement template", "We are aware of the situation and looking into it; update by a set time.",
     "holding statement"),
    ("Hiding spam during live videos", "Pin the house rules, hide repeated links, a second moderator watches.",
     "spam live video moderator"),
    ("Giveaway terms and notary", "Giveaways need published terms; prizes above the threshold need a notary.",
     "giveaway notary"),
    ("Answering negative reviews", "Thank, acknowledge, move to private messages, close in public.",
     "negative review answer"),
    ("Influencer contract checklist", "Disclosure tags, usage rights, exclusivity and payment terms.",
     "influencer contract disclosure"),
    ("Weekend on-call rota", "Who answers on weekends and holidays, and the escalation phone number.",
     "weekend on-call rota"),
    ("Paid boost approval workflow", "Boosts above the budget threshold need the spoke admin's approval.",
     "paid boost approval budget"),
    ("Translating campaigns into French", "Use the glossary; never machine-translate slogans; native review.",
     "translate campaign french glossary"),
    ("Monthly metrics report", "Reach, engagement rate, reply time and sentiment, per account, each month.",
     "monthly report engagement reply time"),
    ("Accessibility of images", "Alt text on every image, captions on every video, no text in images.",
     "alt text accessibility"),
    ("Handling trolls", "Do not feed the troll: one factual reply, then hide or block repeated abuse.",
     "troll abuse block"),
    ("Product recall communication", "Coordinate with legal, pin the recall notice, answer every question.",
     "product recall"),
    ("Hashtag research", "Check a hashtag's recent use before a campaign; avoid hijacked tags.",
     "hashtag hijacked research"),
    ("Password and access hygiene", "Two-factor on every account, no shared passwords, leavers removed.",
     "two-factor password access"),
    ("Répondre aux avis négatifs", "Remercier, reconnaître le problème, proposer une solution en privé.",
     "avis négatifs"),
    ("Organiser un jeu-concours", "Un règlement accessible et la date du tirage au sort publiée.",
     "règlement tirage au sort"),
    ("Gestion de crise", "Ne supprimez pas la publication, escaladez au responsable de permanence.",
     "gestion crise responsable permanence"),
    ("Calendrier éditorial", "Planifier les publications du mois et les valider une semaine avant.",
     "calendrier éditorial"),
    ("Modération des commentaires", "Masquer les insultes, répondre aux questions, signaler les faux comptes.",
     "modération insultes faux comptes"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true",
                        help="time the queries on the database a previous --keep run loaded (no reload)")
    args = parser.parse_args()
    url = f"{PG_ADMIN_URL}/{DB}" if args.reuse else pg_create(DB)
    check_local(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dandelion.config.settings")
    try:
        run(args)
    finally:
        if not (args.keep or args.reuse):
            from django.db import connections

            connections.close_all()
            pg_drop(DB)


def run(args) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from dandelion.community import search
    from dandelion.community.models import SearchEntry
    from dandelion.orgs.models import Membership, OrgUnit

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - t0:.1f}s  loadavg {os.getloadavg()}")
    if args.reuse:
        cm = get_user_model().objects.get(username="bench-cm")
        print(f"reusing {SearchEntry.objects.count():,} entries")
        time_queries(args, cm, search)
        return

    hub = OrgUnit.objects.create(name="Hub", slug="hub", kind="hub")
    europe = OrgUnit.objects.create(name="Europe", slug="europe", kind="region", parent=hub)
    france = OrgUnit.objects.create(name="France", slug="france", parent=europe)
    spain = OrgUnit.objects.create(name="Spain", slug="spain", parent=europe)
    cm = get_user_model().objects.create_user("bench-cm")
    Membership.objects.create(user=cm, unit=france, role="community_manager")
    paths = [hub.path, hub.path, france.path, spain.path]

    rnd = random.Random(20)
    t0 = time.perf_counter()
    batch = []
    for i in range(args.rows):
        words = rnd.choices(VOCAB, k=rnd.randint(40, 160))
        kind = "article" if i % 3 else "answer"
        batch.append(SearchEntry(kind=kind, object_id=i + 1, language="fr" if i % 5 == 0 else "en",
                                 unit_path=rnd.choice(paths) if kind == "article" else "",
                                 title=" ".join(rnd.choices(VOCAB, k=6)).capitalize(), body=" ".join(words),
                                 url=f"/x/{i}"))
        if len(batch) == 5000:
            SearchEntry.objects.bulk_create(batch)
            batch = []
    for j, (title, body, _q) in enumerate(JUDGED):
        lang = "fr" if any(c in title for c in "éèà") or title.startswith(("Répondre", "Organiser", "Gestion",
                                                                          "Calendrier", "Modération")) else "en"
        batch.append(SearchEntry(kind="article", object_id=10_000_000 + j, language=lang, unit_path=hub.path,
                                 title=title, body=body, url=f"/judged/{j}"))
    SearchEntry.objects.bulk_create(batch)
    print(f"load {args.rows + len(JUDGED):,} entries: {time.perf_counter() - t0:.1f}s")
    t0 = time.perf_counter()
    search.refresh_all()
    with connection.cursor() as cur:
        cur.execute("ANALYZE community_searchentry")
    print(f"tsvectors + analyze: {time.perf_counter() - t0:.1f}s")
    time_queries(args, cm, search)


def time_queries(args, cm, search) -> None:
    found, times = 0, []
    for j, (title, _body, query) in enumerate(JUDGED):
        result = search.search(cm, query, limit=10)
        top3 = [h.title for h in result.hits[:3]]
        ok = title in top3
        found += ok
        for _ in range(args.repeat):
            started = time.perf_counter()
            search.search(cm, query, limit=20)
            times.append((time.perf_counter() - started) * 1000)
        print(f"  {'OK ' if ok else 'MISS'} {query!r:45} top3={top3}")
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"relevance: {found}/{len(JUDGED)} = {100 * found / len(JUDGED):.0f}% with the expected article in top 3")
    print(f"latency over {len(times)} searches: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
          f"max {times[-1]:.1f} ms  loadavg {os.getloadavg()}")


if __name__ == "__main__":
    main()
