"""The demo organisation's publishing: the hub's rules and workflow, posts in every state across the spokes, a
crisis pause on one spoke. Seeded after the organisation and the accounts; idempotent."""

from __future__ import annotations

import datetime as dt

from dandelion.core.demo import DemoContext

MARK = "Demo · "


def _accounts(unit, n=2):
    from dandelion.assets.models import SocialAccount

    return list(SocialAccount.objects.live().filter(owner_unit=unit).order_by("id")[:n])


def seed(demo: DemoContext) -> None:
    from dandelion.publishing import services
    from dandelion.publishing.choices import VariantState
    from dandelion.publishing.models import Post, PostVariant

    if Post.objects.filter(title__startswith=MARK).exists():
        demo.counts["posts"] = Post.objects.count()
        return
    hub, fr_cm, fr_lead = demo.users["hana.hub"], demo.users["clara.community"], demo.users["fabien.spoke"]
    europe_lead = demo.users["eva.europe"]
    units = demo.units
    group = units["group"]
    services.create_rule(actor=hub, unit=group, name="Competitors are never named", kind="banned_terms",
                         params={"terms": ["Globex", "Initech", "Umbrella Corp"]})
    services.create_rule(actor=hub, unit=group, name="Promises need legal review", kind="sensitive_terms",
                         severity="approval", params={"terms": ["gratuit", "free", "gratis", "guaranteed",
                                                            "garanti"]})
    services.create_rule(actor=hub, unit=group, name="Sponsored posts say so", kind="required_disclosure",
                         params={"terms": ["#ad", "#pub", "#publicidad", "#sponsored"]})
    services.create_rule(actor=hub, unit=group, name="Five hashtags at most", kind="max_hashtags",
                         severity="warn", params={"max": 5})
    services.create_rule(actor=hub, unit=group, name="Links to our own sites", kind="allowed_link_domains",
                         severity="warn", params={"domains": ["dandelion.example", "example.com"]})
    services.create_rule(actor=hub, unit=group, name="Images carry alt text", kind="alt_text")
    services.create_rule(actor=hub, unit=group, name="Post in the account's language", kind="language",
                         severity="warn")
    services.create_workflow(actor=hub, unit=group, name="Spoke lead then hub brand",
                             steps=[{"name": "Spoke lead", "role": "spoke_admin", "mode": "any"},
                                    {"name": "Hub brand team", "role": "hub_admin", "mode": "any"}])
    # links tagged for the whole group, short links and a posting queue in France
    services.update_settings(group, actor=hub, utm={"utm_source": "{network}", "utm_medium": "social"})
    services.update_settings(units["france"], actor=hub, utm={"utm_source": "{network}", "utm_medium": "social"},
                             shorten_links=True, slots=[{"weekday": d, "time": t} for d in (0, 2, 4)
                                                        for t in ("09:00", "18:30")])

    now = demo.now

    def at(days: float, hour: int = 10) -> dt.datetime:
        return (now + dt.timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)

    fr = _accounts(units["france"])

    def post(title, text, author=fr_cm, unit="france", accounts=None, when=None, **kw):
        return services.create_post(actor=author, unit=units[unit], title=MARK + title, text=text,
                                    accounts=accounts or fr, scheduled_local=when, **kw)

    post("Rentrée draft", "La rentrée arrive ! Découvrez nos nouveautés en magasin dès lundi.")
    blocked = post("Comparison (blocked)", "Nous sommes bien moins chers que Globex, venez comparer !")
    services.run_post_checks(blocked)
    review = post("Summer offer", "Profitez de l'été avec nos offres en magasin, toute la semaine.", when=at(6))
    services.submit_post(review, actor=fr_cm)
    hub_step = post("Store opening", "Notre nouveau magasin de Lyon ouvre ses portes samedi à 9h.", when=at(9))
    services.submit_post(hub_step, actor=fr_cm)
    services.approve_post(hub_step, actor=fr_lead, comment="Bien pour moi.")
    legal = post("Free delivery", "Livraison gratuit pendant tout le mois de juin sur notre site.", when=at(12))
    services.submit_post(legal, actor=fr_cm)
    approved = post("Approved, to schedule", "Merci à nos 100 000 abonnés ! Un grand merci pour votre fidélité.")
    services.submit_post(approved, actor=fr_cm)
    services.approve_post(approved, actor=fr_lead)
    services.approve_post(approved, actor=hub)
    for i, days in enumerate((2, 5, 15, 20)):
        p = post(f"Weekly tip {i + 1}", f"Astuce de la semaine n°{i + 1} : pensez à recycler vos emballages.",
                 when=at(days, 9 + i))
        services.submit_post(p, actor=fr_cm)
        services.approve_post(p, actor=fr_lead)
        services.approve_post(p, actor=hub)
    published = post("Welcome", "Bienvenue sur notre nouveau compte ! Suivez-nous pour nos actualités.")
    services.submit_post(published, actor=fr_cm)
    services.approve_post(published, actor=fr_lead)
    services.approve_post(published, actor=hub)
    services.schedule_post(published, actor=fr_cm)
    changes = post("Too long", "Un texte trop long et trop vague sur nos valeurs, notre histoire, notre équipe.")
    services.submit_post(changes, actor=fr_cm)
    services.request_changes(changes, actor=fr_lead, comment="Plus court, et une seule idée par post.")
    cancelled = post("Cancelled event", "Rendez-vous au salon de Paris le 12 !")
    services.cancel_post(cancelled, actor=fr_cm, reason="The fair was cancelled.")
    failed = post("Rejected by the network", "Nos horaires d'été sont en ligne.")
    services.submit_post(failed, actor=fr_cm)
    services.approve_post(failed, actor=fr_lead)
    services.approve_post(failed, actor=hub)
    services.schedule_post(failed, actor=fr_cm)
    # the spokes: Spain drafted by its European lead, Egypt held by a crisis pause
    es = _accounts(units["spain"])
    spain = post("Verano", "¡Llega el verano! Descubre nuestras novedades en tienda esta semana.", author=europe_lead,
                 unit="spain", accounts=es, when=at(3))
    services.submit_post(spain, actor=europe_lead)
    services.approve_post(spain, actor=hub)  # the hub admin may approve any step: the spoke-lead step here
    eg = _accounts(units["egypt"])
    if eg:
        triage = demo.users["tom.triage"]
        egypt = post("Ramadan hours", "Our stores open late during Ramadan: see you after iftar!", author=triage,
                     unit="egypt", accounts=eg, when=at(1))
        services.submit_post(egypt, actor=triage)
        services.approve_post(egypt, actor=hub)
        services.approve_post(egypt, actor=hub)
        services.pause_subtree(actor=hub, unit=units["egypt"],
                               reason="Demo: major news event in the region, every scheduled post on hold.")
    # a campaign of the hub in progress across the spokes: France scheduled, Spain in approval, Egypt not started
    from dandelion.publishing import campaigns

    spokes = [units[s] for s in ("france", "spain", "egypt") if s in units]
    campaign = campaigns.create_campaign(
        actor=hub, unit=group, name=MARK + "Summer collection", brief="One week, every spoke: the summer "
        "collection in store. Localise the master post; keep the link to our site.",
        master_text="Summer is here: our new collection is in store this week! https://dandelion.example/summer",
        starts_local=at(4, 0).replace(tzinfo=None), ends_local=at(11, 23).replace(tzinfo=None), spokes=spokes)
    fr_row = campaign.spokes.get(unit=units["france"])
    fr_camp = campaigns.localise_campaign(
        fr_row, actor=fr_cm, accounts=fr, scheduled_local=at(5, 9).replace(tzinfo=None),
        text="L'été est là : notre nouvelle collection arrive en magasin cette semaine ! "
             "https://dandelion.example/summer")
    services.submit_post(fr_camp, actor=fr_cm)
    services.approve_post(fr_camp, actor=fr_lead)
    services.approve_post(fr_camp, actor=hub)
    if es:
        es_camp = campaigns.localise_campaign(
            campaign.spokes.get(unit=units["spain"]), actor=europe_lead, accounts=es,
            scheduled_local=at(5, 9).replace(tzinfo=None),
            text="¡Llega el verano! Nuestra nueva colección, en tienda esta semana. https://dandelion.example/summer")
        services.submit_post(es_camp, actor=europe_lead)
    # send what is due now (the sandbox connector publishes nothing for real), then make one fail as a network would
    services.send_due(worker="demo-seed")
    PostVariant.objects.filter(post=failed).update(
        state=VariantState.FAILED, last_error="The network refused the post: the page's token was revoked.")
    services.refresh_post_state(failed.pk)
    _seed_advocacy(demo, hub)
    demo.counts["posts"] = Post.objects.count()


def _seed_advocacy(demo: DemoContext, hub) -> None:
    """The group's advocacy library (one item with texts in three languages), two helpers' linked personal
    accounts (sandbox: nothing is sent), a share from France and one from Spain, and a few clicks."""
    from dandelion.assets.networks import network_specs
    from dandelion.publishing import advocacy
    from dandelion.publishing.models import ShortLink

    network = next((k for k, spec in network_specs().items() if spec.profile_url_template.startswith("http")),
                   None)
    if network is None:
        return
    item = advocacy.create_item(actor=hub, unit=demo.units["group"], title=MARK + "Our summer collection",
                                url="https://dandelion.example/summer", suggested_texts={
                                    "fr": "Notre collection d'été est arrivée, je l'adore !",
                                    "es": "¡Ya llegó nuestra colección de verano!",
                                    "en": "Our summer collection is here, and I love it!"})
    for username, unit in (("hugo.helper", "france"), ("sofia.spain", "spain")):
        user, unit = demo.users.get(username), demo.units.get(unit)
        if user is None or unit is None:
            continue
        account = advocacy.register_personal_account(actor=user, unit=unit, network=network,
                                                     handle=f"@{username}", external_id=f"demo-{username}")
        advocacy.share_item(item, actor=user, account=account)
    ShortLink.objects.filter(share__item=item).update(clicks=7)
