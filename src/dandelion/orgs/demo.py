"""The organisation part of the demo: the hub, regions, countries, a business unit, an agency, a vendor, their
teams, one demo person per role, the guidelines (seeded by ``dandelion.core.demo.seed_demo``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from dandelion.core.demo import DEMO_PASSWORD, DemoContext


@dataclass(frozen=True)
class UnitSpec:
    slug: str
    name: str
    kind: str
    parent: str | None
    country: str = ""
    languages: tuple[str, ...] = ()
    tz: str = "Europe/Paris"


UNITS: tuple[UnitSpec, ...] = (
    UnitSpec("group", "Group Web & Social Media", "hub", None, "", ("en", "fr"), "Europe/Paris"),
    UnitSpec("europe", "Europe", "region", "group", "", (), "Europe/Brussels"),
    UnitSpec("mea", "Middle East & Africa", "region", "group", "", (), "Africa/Cairo"),
    UnitSpec("france", "France", "country", "europe", "FR", ("fr",), "Europe/Paris"),
    UnitSpec("spain", "Spain", "country", "europe", "ES", ("es", "ca"), "Europe/Madrid"),
    UnitSpec("poland", "Poland", "country", "europe", "PL", ("pl",), "Europe/Warsaw"),
    UnitSpec("romania", "Romania", "country", "europe", "RO", ("ro",), "Europe/Bucharest"),
    UnitSpec("belgium", "Belgium", "country", "europe", "BE", ("nl", "fr"), "Europe/Brussels"),
    UnitSpec("uk", "United Kingdom", "country", "europe", "GB", ("en",), "Europe/London"),
    UnitSpec("egypt", "Egypt", "country", "mea", "EG", ("ar", "en"), "Africa/Cairo"),
    UnitSpec("senegal", "Senegal", "country", "mea", "SN", ("fr", "wo"), "Africa/Dakar"),
    UnitSpec("business-services", "Business Services", "business_unit", "group", "", ("en", "fr"), "Europe/Paris"),
    UnitSpec("brightside", "Brightside Agency", "agency", "group", "", ("en", "fr"), "Europe/London"),
    UnitSpec("modco", "ModCo Global Moderation", "vendor", "group", "", ("en", "ar", "am", "sw", "ha", "so"),
             "Africa/Nairobi"),
)

# (unit slug, team name, kind, languages)
TEAMS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("group", "Hub triage", "community", ("en", "fr")),
    ("group", "Group PR & Reputation", "pr", ("en", "fr")),
    ("group", "Group insights", "analysts", ()),
    ("france", "France helpers", "helpers", ("fr",)),
    ("france", "France community", "community", ("fr",)),
    ("spain", "Spain helpers", "helpers", ("es", "ca")),
    ("poland", "Poland helpers", "helpers", ("pl",)),
    ("romania", "Romania helpers", "helpers", ("ro",)),
    ("belgium", "Belgium helpers", "helpers", ("nl", "fr")),
    ("uk", "UK helpers", "helpers", ("en",)),
    ("egypt", "Egypt helpers", "helpers", ("ar", "en")),
    ("senegal", "Senegal helpers", "helpers", ("fr", "wo")),
    ("business-services", "Business Services care", "helpers", ("en", "fr")),
    ("brightside", "Brightside studio", "community", ("en", "fr")),
    ("modco", "ModCo moderation", "moderation", ("en", "ar", "am", "sw", "ha", "so", "ti", "de", "it", "pt")),
)

# (username, full name, role, unit slug, team name or "")
PEOPLE: tuple[tuple[str, str, str, str, str], ...] = (
    ("hana.hub", "Hana Hub", "hub_admin", "group", ""),
    ("fabien.spoke", "Fabien Spoke", "spoke_admin", "france", ""),
    ("clara.community", "Clara Community", "community_manager", "france", "France community"),
    ("hugo.helper", "Hugo Helper", "helper_agent", "france", "France helpers"),
    ("lea.helper", "Léa Helper", "helper_agent", "france", "France helpers"),
    ("mo.moderator", "Mo Moderator", "external_moderator", "modco", "ModCo moderation"),
    ("paula.pr", "Paula PR", "pr_manager", "group", "Group PR & Reputation"),
    ("ana.analyst", "Ana Analyst", "analyst", "group", "Group insights"),
    ("sofia.spain", "Sofía Spain", "helper_agent", "spain", "Spain helpers"),
    ("piotr.poland", "Piotr Poland", "helper_agent", "poland", "Poland helpers"),
    ("ioana.romania", "Ioana Romania", "helper_agent", "romania", "Romania helpers"),
    ("wout.belgium", "Wout Belgium", "helper_agent", "belgium", "Belgium helpers"),
    ("oliver.uk", "Oliver UK", "helper_agent", "uk", "UK helpers"),
    ("amira.egypt", "Amira Egypt", "helper_agent", "egypt", "Egypt helpers"),
    ("awa.senegal", "Awa Senegal", "helper_agent", "senegal", "Senegal helpers"),
    ("ben.business", "Ben Business", "helper_agent", "business-services", "Business Services care"),
    ("tom.triage", "Tom Triage", "community_manager", "group", "Hub triage"),
    ("eva.europe", "Eva Europe", "spoke_admin", "europe", ""),
)

GUIDELINE_BODY = """# Social media guidelines

These guidelines apply to everyone who speaks for the group on social media: employees, agencies and vendors.

## Answer every customer
* Every comment, mention or message that needs an answer gets **an individual answer**, in the customer's language,
  from the team of the country concerned.
* First response within the SLA of your team (business hours); never copy-paste the same answer twice in a thread.

## Tone
* Be human, friendly and precise. Sign with your first name.
* Never argue in public: move personal data questions to direct messages.

## Escalate
* Legal threats, safety issues, press questions and anything that could become a crisis go to **Group PR & Reputation**.
* Abuse and spam are hidden, not deleted, unless they break the law.

## Accounts
* Every account has an owner unit and a named owner. Credentials live in Dandelion, never in spreadsheets.
"""


def seed(demo: DemoContext) -> None:
    from dandelion.orgs.models import Guideline, Membership, OrgUnit, Team

    User = get_user_model()
    for spec in UNITS:
        unit = OrgUnit.objects.filter(slug=spec.slug).first()
        if unit is None:
            unit = OrgUnit.objects.create(
                slug=spec.slug, name=spec.name, kind=spec.kind,
                parent=demo.units.get(spec.parent) if spec.parent else None,
                country=spec.country, languages=list(spec.languages), timezone=spec.tz,
            )
        demo.units[spec.slug] = unit
    for slug, name, kind, languages in TEAMS:
        team, _ = Team.objects.get_or_create(
            unit=demo.units[slug], name=name, defaults={"kind": kind, "languages": list(languages)}
        )
        demo.teams[name] = team
    for username, full_name, role, slug, team_name in PEOPLE:
        first, _, last = full_name.partition(" ")
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.example"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(
            user=user, unit=demo.units[slug], role=role, team=demo.teams.get(team_name) if team_name else None
        )
        demo.users[username] = user
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@demo.example", DEMO_PASSWORD)
    demo.hub_admin = demo.users["hana.hub"]
    for username, full_name, role, slug, team_name in PEOPLE[:8]:
        demo.logins.append((username, role.replace("_", " "), slug + (" / " + team_name if team_name else "")))
    demo.logins.append(("admin", "superuser", "(Django admin at /admin/)"))

    if not Guideline.objects.exists():
        Guideline.objects.create(
            title="Group social media guidelines", version=1, body=GUIDELINE_BODY,
            change_summary="First version", published_at=demo.now, published_by=demo.hub_admin,
        )
    demo.counts.update({"units": OrgUnit.objects.count(), "teams": Team.objects.count(),
                        "people": User.objects.count()})
