"""``dandelion sites create --unit SLUG --template NAME --hostname HOST``: a unit's website from a hub template (one
transaction; a hostname already used or an unknown template is an error and creates nothing).
``dandelion sites list``; ``dandelion sites sync-permissions``: re-derive every site's editors from memberships.
Commands act as the SYSTEM actor."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create and list the units' websites; re-derive their editors from the organisation's memberships."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a unit's website from a site template.")
        create.add_argument("--unit", required=True, help="The unit's slug.")
        create.add_argument("--template", required=True, help="The site template's name (e.g. corporate).")
        create.add_argument("--hostname", required=True, help="The hostname the site answers on.")
        create.add_argument("--port", type=int, default=80)
        create.add_argument("--name", default="", help="The site's name (default: the unit's).")
        sub.add_parser("list", help="List the websites.")
        sub.add_parser("sync-permissions", help="Re-derive every website's editors from memberships.")
        banner = sub.add_parser("crisis-banner", help="Push (or, with an empty message, remove) a crisis banner on "
                                                      "every website of a unit's subtree.")
        banner.add_argument("--unit", required=True)
        banner.add_argument("--message", required=True)
        banner.add_argument("--level", default="warning", choices=["info", "warning", "critical"])
        banner.add_argument("--url", default="")
        sub.add_parser("report", help="The consistency report: each website against its template and the org.")

    def handle(self, *args, **options):
        from dandelion.core.actors import SYSTEM
        from dandelion.core.exceptions import DandelionError
        from dandelion.orgs.models import OrgUnit
        from dandelion.sites import services
        from dandelion.sites.models import UnitSite

        action = options["action"]
        if action == "list":
            for website in UnitSite.objects.select_related("site", "unit", "template").order_by("site__hostname"):
                self.stdout.write(f"{website.hostname:40} {website.unit.slug:20} {website.template.name} "
                                  f"v{website.template_version}")
            return
        if action == "report":
            for report in services.consistency_report(user=SYSTEM):
                findings = [*([f"outdated (v{report.website.template_version} < v{report.current_version})"]
                              if report.outdated else []),
                            *(f"missing page /{slug}/" for slug in report.missing_pages),
                            *(f"'{title}' lacks {', '.join(blocks)}" for title, blocks in report.missing_blocks),
                            *(f"'{title}' has no owner" for title in report.pages_without_owner),
                            *([f"{report.broken_links} broken link(s)"] if report.broken_links else []),
                            *(["unit archived"] if report.unit_archived else [])]
                self.stdout.write(f"{report.website.hostname:40} {'; '.join(findings) or 'consistent'}")
            return
        try:
            if action == "sync-permissions":
                result = services.sync_site_permissions(actor=SYSTEM)
                for host, names in sorted(result.added.items()):
                    self.stdout.write(f"{host}: + {', '.join(names)}")
                for host, names in sorted(result.removed.items()):
                    self.stdout.write(f"{host}: - {', '.join(names)}")
                self.stdout.write("Editors are in sync." if not result.changed else "Editors synced.")
                return
            unit = OrgUnit.objects.filter(slug__iexact=options["unit"].strip()).first()
            if unit is None:
                raise CommandError(f"There is no unit with the slug {options['unit']!r}.")
            if action == "crisis-banner":
                done = services.push_crisis_banner(actor=SYSTEM, unit=unit, message=options["message"],
                                                   level=options["level"], url=options["url"])
                self.stdout.write(self.style.SUCCESS(
                    f"Crisis banner {'set' if options['message'].strip() else 'removed'} on {len(done)} website(s): "
                    + ", ".join(w.hostname for w in done)))
                return
            website = services.create_site(actor=SYSTEM, unit=unit, template=options["template"],
                                           hostname=options["hostname"], port=options["port"],
                                           site_name=options["name"])
        except DandelionError as err:
            raise CommandError(err.message) from err
        pages = website.site.root_page.get_descendants(inclusive=True).count()
        self.stdout.write(self.style.SUCCESS(
            f"Created {website.public_url()} for {unit.name} from {website.template} ({pages} pages)."))
