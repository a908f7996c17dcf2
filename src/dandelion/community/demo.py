"""The community's part of the demo organisation: a dozen articles in English and French, a question with an
accepted answer, a past and a coming gathering with speakers, a learning path with its certification. Idempotent."""

from __future__ import annotations

import datetime as dt

from dandelion.community import enablement, services
from dandelion.community.models import Article, Gathering, LearningPath, Question
from dandelion.core.actors import SYSTEM

ARTICLES = (
    # (unit slug, language, kind, title, summary, body, tags, review in days (negative: stale))
    ("group", "en", "checklist", "Crisis escalation checklist",
     "What to do in the first hour when a post goes viral for the wrong reasons.",
     ("## First 15 minutes\n\n1. Do **not** delete the post.\n2. Escalate to the PR manager on duty.\n"
     "3. Pause scheduled posts on every account of the brand.\n\n## First hour\n\n- Agree a holding statement.\n"
     "- Reply once, publicly, then move to private messages."), ["crisis", "escalation"], 120),
    ("group", "en", "best_practice", "Answering angry customers in public",
     "Thank, acknowledge, fix in private, close in public.",
     ("Thank the person, acknowledge the problem without arguing, offer to continue in a private message, and "
     "come back to the public thread once it is solved."), ["customer care", "tone"], 200),
    ("group", "en", "howto", "Hiding spam during live videos",
     "Pin a moderation comment, hide repeated messages, block the worst offenders.",
     ("Before going live, pin a comment with the house rules. During the live, hide repeated links and report "
     "bots; a second moderator watches the chat."), ["live", "moderation", "spam"], 90),
    ("group", "en", "playbook", "Product launch playbook",
     "Teasers, launch day, the week after.",
     ("Teasers two weeks before, a launch-day post per network at the local peak hour, answers within one hour "
     "on launch day, a recap with the best user content a week later."), ["launch", "campaign"], 365),
    ("group", "en", "template", "Holding statement template",
     "A short statement while the facts are checked.",
     "> We are aware of the situation and are looking into it. We will share an update here by {time}.",
     ["crisis", "template"], -10),
    ("group", "en", "success_story", "How Senegal doubled its reply rate",
     "A helpers team, canned answers in French and Wolof, and an SLA everybody sees.",
     ("The Senegal team set a 2-hour first-response SLA, wrote 30 canned answers in French and Wolof and reviews "
     "them monthly. Reply rate went from 41 % to 88 % in a quarter."), ["success story", "care"], 365),
    ("france", "fr", "best_practice", "Répondre aux clients mécontents",
     "Remercier, reconnaître, résoudre en privé, conclure en public.",
     ("Toujours remercier la personne, reconnaître le problème sans polémiquer, proposer de poursuivre en message "
     "privé, puis revenir sur le fil public une fois le problème réglé."), ["service client", "ton"], 180),
    ("france", "fr", "checklist", "Checklist avant publication",
     "Orthographe, liens, mentions légales, heure de publication.",
     ("- Relire l'orthographe\n- Tester chaque lien\n- Ajouter les mentions légales des jeux-concours\n"
     "- Vérifier l'heure de publication locale"), ["publication"], 90),
    ("france", "fr", "howto", "Organiser un jeu-concours conforme",
     "Règlement, dépôt, tirage au sort.",
     ("Un jeu-concours demande un règlement accessible, les conditions de participation et la date du tirage. "
     "Conservez les preuves du tirage au sort."), ["jeu-concours", "juridique"], -30),
    ("group", "fr", "playbook", "Gestion de crise : les premières heures",
     "Ne rien supprimer, escalader, suspendre les publications programmées.",
     ("Ne supprimez pas la publication. Escaladez au responsable RP de permanence et suspendez les publications "
     "programmées de la marque. Préparez une déclaration d'attente."), ["crise"], 120),
    ("group", "fr", "template", "Modèle de réponse aux avis négatifs",
     "Une réponse courte et personnelle.",
     ("Bonjour {prénom}, merci pour votre retour. Nous sommes désolés pour cette expérience : pouvez-vous nous "
     "écrire en message privé pour que nous trouvions une solution ?"), ["avis", "modèle"], 365),
    ("spain", "en", "howto", "Spanish giveaway rules",
     "Published terms and a notary above the threshold.",
     "Giveaways in Spain need published terms; prizes above the legal threshold need a notary deposit.",
     ["giveaway", "legal"], 200),
)


# (username, unit slug, headline, networks, languages, skills, visibility)
PROFILES = (
    ("hana.hub", "group", "Runs the group's social media team and the community days",
     ["facebook", "instagram", "linkedin"], ["en", "fr"], ["strategy", "crisis", "training"], "group"),
    ("clara.community", "france", "Runs @brand_fr on Facebook and Instagram", ["facebook", "instagram"],
     ["fr", "en"], ["live video", "moderation", "giveaways"], "group"),
    ("fabien.spoke", "france", "France's social media lead", ["facebook", "instagram", "x"], ["fr"],
     ["campaigns", "paid boost"], "unit"),
    ("tom.triage", "group", "Hub triage: routes what the spokes cannot answer", ["x", "facebook"], ["en", "fr"],
     ["escalation", "crisis"], "group"),
    ("eva.europe", "europe", "Europe's spoke admin", ["linkedin", "instagram"], ["en", "de", "fr"],
     ["translation", "partner agencies"], "unit"),
)


def _seed_profiles(demo) -> None:
    from dandelion.community.models import MemberProfile

    for username, slug, headline, networks, languages, skills, visibility in PROFILES:
        user, unit = demo.users.get(username), demo.units.get(slug)
        if user is None or unit is None or MemberProfile.objects.filter(user=user).exists():
            continue
        services.update_profile(actor=SYSTEM, user=user, unit=unit, headline=headline, networks=networks,
                                languages=languages, skills=skills, visibility=visibility,
                                chat=f"@{username}", open_to_questions=True)
    demo.counts["community directory entries"] = MemberProfile.objects.count()


def seed(demo) -> None:
    author = demo.hub_admin or SYSTEM
    today = demo.now.date()
    made: dict[str, Article] = {}
    for slug, lang, kind, title, summary, body, tags, review in ARTICLES:
        unit = demo.units.get(slug)
        if unit is None:
            continue
        article = Article.objects.filter(title=title, unit=unit).first()
        if article is None:
            article = services.create_article(actor=SYSTEM, unit=unit, title=title, summary=summary, body=body,
                                              kind=kind, language=lang, tags=tags, owner=author
                                              if getattr(author, "pk", None) else None,
                                              review_by=today + dt.timedelta(days=review))
        made[title] = article
    pairs = (("Crisis escalation checklist", "Holding statement template"),
             ("Crisis escalation checklist", "Gestion de crise : les premières heures"),
             ("Answering angry customers in public", "Répondre aux clients mécontents"))
    for a, b in pairs:
        if a in made and b in made:
            made[a].related.add(made[b])
    demo.counts["community articles"] = len(made)

    users = demo.users
    asker = users.get("clara.community") or next(iter(users.values()), None)
    answerer = users.get("hana.hub") or asker
    title = "How do you handle trolls during live videos?"
    if asker is not None and not Question.objects.filter(title=title).exists():
        q = services.ask_question(actor=SYSTEM if not getattr(asker, "pk", None) else asker, title=title,
                                  body="We get the same spam links in every live. What works for you?")
        a = services.answer_question(q, actor=answerer, body="Pin a comment with the rules before going live, "
                                     "and have a second moderator hide repeated links.")
        services.accept_answer(a, actor=SYSTEM)

    hub = demo.units.get("group")
    if hub is not None:
        base = demo.now.replace(hour=9, minute=30, second=0, microsecond=0)
        for title, delta, place in (("Community day — spring", -45, "Paris, Group HQ"),
                                    ("Community day — summer", 20, "Lyon, Cité internationale")):
            if Gathering.objects.filter(title=title).exists():
                continue
            start = base + dt.timedelta(days=delta)
            g = services.create_gathering(
                actor=SYSTEM, unit=hub, title=title, starts_at=start, ends_at=start + dt.timedelta(hours=7),
                capacity=80, place=place, online_url="https://meet.example.com/community-day",
                description="Our regular gathering: what worked, what did not, and one invited expert.",
                speakers=[{"name": "Hana Hub", "affiliation": "Group social media"},
                          {"name": "Dr. Ines Moreau", "affiliation": "Université Lyon 2", "is_guest": True,
                           "bio": "Researches online communities and moderation."}],
                agenda=[{"starts_at": start, "title": "Welcome and news from the hub", "speaker": "Hana Hub"},
                        {"starts_at": start + dt.timedelta(hours=1), "title": "Keynote: moderation at scale",
                         "speaker": "Dr. Ines Moreau"},
                        {"starts_at": start + dt.timedelta(hours=3), "title": "Spokes share their wins"}])
            if delta > 0 and asker is not None and getattr(asker, "pk", None):
                services.register_for_gathering(g, actor=asker)
        if not LearningPath.objects.filter(title="Publishing basics").exists() and made:
            enablement.create_learning_path(
                actor=SYSTEM, unit=hub, title="Publishing basics", certification_name="Certified publisher",
                description="Read the three articles, then answer the quiz.",
                articles=[made[t] for t in ("Crisis escalation checklist", "Answering angry customers in public",
                                            "Holding statement template") if t in made],
                quiz=[{"text": "A post goes viral for the wrong reasons. First?",
                       "choices": ["Delete it", "Escalate to the PR manager on duty"], "correct": [1]},
                      {"text": "An angry customer comments publicly. You…",
                       "choices": ["Argue the facts", "Thank, acknowledge, move to private"], "correct": [1]}])
    demo.counts["community gatherings"] = Gathering.objects.count()
    _seed_profiles(demo)
