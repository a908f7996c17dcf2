"""The weekly digest: what one unit's subtree did last week (Monday to Sunday, UTC days) against the week before,
its units and accounts, and the stories the hub featured that week; an HTML e-mail with a plain-text part, the
week's charts and tables as a PDF attachment and the same tables as an XLSX attachment. ``services.send_weekly_digests`` plans, claims and sends them; this module
only reads (through ``restrict()`` for the recipient) and renders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from dandelion.analytics import exports, reports
from dandelion.analytics.reports import BlockQuery, Period

#: the roles whose members receive their unit's digest (the hub admin: the hub's roll-up over every spoke)
DIGEST_ROLES = ("hub_admin", "spoke_admin")
TOP = 10


def last_week(today: dt.date) -> Period:
    """The last complete ISO week before ``today``."""
    monday = today - dt.timedelta(days=today.weekday() + 7)
    return Period(monday, monday + dt.timedelta(days=6))


@dataclass
class Digest:
    subject: str
    text: str
    html: str
    attachment_name: str
    attachment: bytes
    pdf_name: str = ""
    pdf: bytes = b""


def build(user, unit, week: Period) -> Digest:
    """The digest of ``unit``'s subtree for ``week`` as ``user`` may read it (blocks and stories restricted to
    the user: a digest never shows more than the user's dashboard would)."""
    from dandelion.analytics.models import RollupBlock, SuccessStory
    from dandelion.assets.models import SocialAccount
    from dandelion.orgs.models import OrgUnit

    data = reports.block_dashboard(RollupBlock.objects.restrict(user, "view"), BlockQuery(top_paths=(unit.path,)),
                                   week)
    rows = data.pop("rows")
    unit_labels = dict(OrgUnit.objects.filter(pk__in={r["unit_id"] for r in rows}).values_list("pk", "name"))
    account_labels = {a.pk: str(a) for a in SocialAccount.objects.filter(pk__in={r["account_id"] for r in rows})}
    by_unit, by_account = reports.unit_and_account_breakdowns(rows, unit_labels, account_labels)
    stories = list(SuccessStory.objects.readable_by(user).filter(
        featured_at__date__gte=week.start, featured_at__date__lte=week.end).select_related("unit")[:5])
    link = settings.DANDELION_BASE_URL + reverse("analytics:dashboard") + "?" + urlencode(
        {"unit": unit.pk, "start": week.start.isoformat(), "end": week.end.isoformat()})
    context = {"user": user, "unit": unit, "week": week, "data": data, "by_unit": by_unit[:TOP],
               "by_account": by_account[:TOP], "stories": stories, "link": link,
               "base_url": settings.DANDELION_BASE_URL}
    subject = _("%(unit)s: your week of %(start)s") % {"unit": unit.name, "start": week.start.isoformat()}
    sheets = exports.dashboard_sheets(data, by_unit, by_account, None)
    stem = f"analytics-{unit.slug or unit.pk}-{week.start.isoformat()}"
    pdf = exports.pdf_bytes(subject, _("%(start)s – %(end)s, against the week before") % {
        "start": week.start.isoformat(), "end": week.end.isoformat()}, sheets,
        exports.dashboard_charts(data, by_unit))
    return Digest(subject=settings.EMAIL_SUBJECT_PREFIX + subject,
                  text=render_to_string("analytics/email/digest.txt", context),
                  html=render_to_string("analytics/email/digest.html", context),
                  attachment_name=f"{stem}.xlsx", attachment=exports.xlsx_bytes(sheets),
                  pdf_name=f"{stem}.pdf", pdf=pdf)


def send(digest: Digest, to: str) -> None:
    """Hand ``digest`` to the mail server (raises on refusal: the caller records the failure)."""
    message = EmailMultiAlternatives(subject=digest.subject, body=digest.text,
                                     from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    message.attach_alternative(digest.html, "text/html")
    if digest.pdf:
        message.attach(digest.pdf_name, digest.pdf, exports.PDF_TYPE)
    message.attach(digest.attachment_name, digest.attachment, exports.XLSX_TYPE)
    message.send()
