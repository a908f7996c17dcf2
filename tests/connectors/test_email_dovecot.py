"""The e-mail connector against a real Dovecot (IMAP) and a real SMTP server (aiosmtpd), end to end through
Dandelion: a customer's e-mail delivered to the support mailbox by dovecot-lda → the polling job stores it → the
conversation is in the right team's queue → the agent's reply (the inbox service, as the UI) reaches the SMTP
server with the threading headers → the customer's answer threads into the same conversation."""

from __future__ import annotations

import datetime as dt
import email.utils
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from tests.connectors.conftest import BOXES, PASSWORD, SUPPORT
from tests.inbox.conftest import _analyzer, _fake_store, inbox  # noqa: F401 - fixtures shared with the inbox tests

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, OutboundReply, poll_with_cursor
from dandelion.connectors.errors import ConnectorError

_boxes = iter(range(BOXES))


_counter = iter(range(1, 1_000_000))


def mail(*, subject="Commande", body="Bonjour, mon colis n'est pas arrivé.", sender="Camille Martin <camille@cust.test>",
         msgid=None, in_reply_to=None, references=None, to=SUPPORT, date=None, extra=b"") -> tuple[str, bytes]:
    msgid = msgid or f"<c{next(_counter)}.{timezone.now().timestamp()}@cust.test>"
    headers = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Message-ID: {msgid}",
               f"Date: {email.utils.format_datetime(date or timezone.now())}", "MIME-Version: 1.0",
               "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    if in_reply_to:
        headers.append(f"In-Reply-To: {in_reply_to}")
    if references:
        headers.append(f"References: {references}")
    raw = ("\r\n".join(headers) + "\r\n").encode() + extra + b"\r\n" + body.encode("utf-8") + b"\r\n"
    return msgid, raw


def config(dovecot, smtp=None, **extra):
    cfg = {"imap_host": "127.0.0.1", "imap_port": dovecot.port, "imap_security": "none", "backfill_days": 30,
           "timeout_s": 10.0}
    if smtp is not None:
        cfg.update(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none", from_name="Acme Support",
                   smtp_username=SUPPORT)
    cfg.update(extra)
    return cfg


def ref(dovecot, smtp=None, *, user=SUPPORT, password=PASSWORD, **extra) -> AccountRef:
    return AccountRef(id=1, network="email", external_id=user, handle=user, connector="email",
                      credentials={"imap_password": password, "smtp_password": "smtp-secret"},
                      config=config(dovecot, smtp, **extra))


@pytest.fixture
def mailbox(dovecot):
    """A fresh mailbox user for each test (its own Maildir): tests never see each other's mail."""
    return f"box{next(_boxes)}@example.test"


# --- the connector alone --------------------------------------------------------------------------------------------


def test_cursor_polling_reads_each_message_once_and_survives_restarts(dovecot, mailbox):
    connector = registry.get("email")
    account = ref(dovecot, user=mailbox)
    first_id, raw = mail(subject="Où est ma commande ?")
    dovecot.deliver(mailbox, raw)
    dovecot.deliver(mailbox, mail(body="second")[1])
    result = poll_with_cursor(connector, account, None)
    assert [e.text.splitlines()[0] for e in result.events] == ["Où est ma commande ?", "Commande"]
    assert result.events[0].external_id == first_id and result.events[0].kind == "dm"
    assert result.events[0].author.external_id == "camille@cust.test"
    assert result.cursor["last_uid"] == 2 and result.cursor["uidvalidity"] > 0 and not result.rejected
    # the cursor is plain JSON: what the account stores and hands back after a restart
    again = poll_with_cursor(connector, account, dict(result.cursor))
    assert list(again.events) == [] and again.cursor == result.cursor
    dovecot.deliver(mailbox, mail(body="third")[1])
    third = poll_with_cursor(connector, account, dict(again.cursor))
    assert [e.text for e in third.events] == ["Commande\n\nthird"] and third.cursor["last_uid"] == 3


def test_batches_say_when_more_is_waiting_and_uidvalidity_change_restarts(dovecot, mailbox):
    connector = registry.get("email")
    account = ref(dovecot, user=mailbox, batch_size=2)
    for i in range(5):
        dovecot.deliver(mailbox, mail(body=f"n{i}")[1])
    seen, cursor, pages = [], None, 0
    while True:
        result = poll_with_cursor(connector, account, cursor)
        seen += [e.text.rsplit("\n", 1)[-1] for e in result.events]
        cursor, pages = dict(result.cursor), pages + 1
        if not result.more:
            break
    assert seen == [f"n{i}" for i in range(5)] and pages == 3
    rebuilt = poll_with_cursor(connector, account, {**cursor, "uidvalidity": cursor["uidvalidity"] + 1})
    assert len(rebuilt.events) == 2 and rebuilt.more  # read again from the backfill window: the inbox dedups


def test_oversized_and_hostile_messages_arrive_bounded(dovecot, mailbox):
    connector = registry.get("email")
    account = ref(dovecot, user=mailbox, max_message_bytes=4096)
    dovecot.deliver(mailbox, mail(subject="Big", body="x" * 20_000)[1])
    hostile = (b"From: =?x-unknown?q?=FF?= <weird@cust.test>\r\nSubject: \xff\xfe bad bytes\r\n"
               b"Date: not a date\r\nContent-Type: text/plain; charset=klingon\r\n\r\n\xff\xfe\x00hello\r\n")
    dovecot.deliver(mailbox, hostile)
    result = poll_with_cursor(connector, account, None)
    big, bad = result.events if result.events[0].raw["subject"] == "Big" else result.events[::-1]
    assert "over the size limit" in big.text and big.raw["truncated_size"] > 4096
    assert "hello" in bad.text and "\x00" not in bad.text and bad.author.external_id == "weird@cust.test"
    assert bad.external_id.endswith("@dandelion.no-message-id>")  # no Message-ID: a stable digest
    assert abs((bad.created_at - timezone.now()).total_seconds()) < 120  # unreadable date: the reception time


def test_wrong_password_is_permanent_and_unreachable_server_transient(dovecot, mailbox):
    connector = registry.get("email")
    with pytest.raises(ConnectorError) as refused:
        poll_with_cursor(connector, ref(dovecot, user=mailbox, password="wrong"), None)
    assert refused.value.permanent and "login refused" in refused.value.message
    down = ref(dovecot, user=mailbox, imap_port=1, timeout_s=2.0)
    with pytest.raises(ConnectorError) as unreachable:
        poll_with_cursor(connector, down, None)
    assert not unreachable.value.permanent


def test_reply_threads_and_goes_through_smtp_with_its_copy_in_sent(dovecot, smtp, mailbox):
    connector = registry.get("email")
    smtp.clear()
    account = ref(dovecot, smtp, user=mailbox, sent_folder="INBOX")  # the copy lands where the poll sees it
    msgid, raw = mail(subject="=?utf-8?q?Colis_perdu_=C3=A9?=", references="<root@cust.test>")
    dovecot.deliver(mailbox, raw)
    sent = connector.send_reply(account, OutboundReply(text="Nous regardons.", in_reply_to=msgid, kind="dm",
                                                       recipient_external_id="camille@cust.test",
                                                       idempotency_key="dandelion-message-9"))
    received = smtp.received[-1]
    assert received.rcpt_tos == ["camille@cust.test"] and received.mail_from == mailbox
    message = received.message
    assert message["Subject"] == "Re: Colis perdu é" and message["In-Reply-To"] == msgid
    assert message["References"].split() == ["<root@cust.test>", msgid]
    assert message["Message-ID"] == sent.external_id and "Nous regardons." in message.get_content()
    again = connector.send_reply(account, OutboundReply(text="Nous regardons.", in_reply_to=msgid, kind="dm",
                                                        idempotency_key="dandelion-message-9"))
    assert again.external_id == sent.external_id  # a retried send keeps its Message-ID
    copies = [e for e in poll_with_cursor(connector, account, None).events if e.from_account]
    assert copies and copies[0].external_id == sent.external_id and copies[0].in_reply_to == msgid


def test_smtp_refusals_are_permanent(dovecot, smtp, mailbox):
    connector = registry.get("email")
    account = ref(dovecot, smtp, user=mailbox)
    bad = AccountRef(**{**{f: getattr(account, f) for f in account.__slots__},
                        "credentials": {"imap_password": PASSWORD, "smtp_password": "nope"}})
    with pytest.raises(ConnectorError) as exc:
        connector.send_reply(bad, OutboundReply(text="x", kind="dm", recipient_external_id="a@cust.test"))
    assert exc.value.permanent and "SMTP login refused" in exc.value.message
    with pytest.raises(ConnectorError) as nowhere:
        connector.send_reply(account, OutboundReply(text="x", kind="dm", recipient_external_id="not-an-address"))
    assert nowhere.value.permanent


def test_check_reports_what_works(dovecot, smtp, mailbox):
    lines = {r.name: r for r in registry.get("email").check(ref(dovecot, smtp, user=mailbox))}
    assert all(r.ok for r in lines.values()), lines
    assert {"config", "imap login", "mailbox", "imap capabilities", "smtp login"} <= set(lines)
    assert "IDLE" in lines["imap capabilities"].detail
    failing = {r.name: r for r in registry.get("email").check(ref(dovecot, user=mailbox, password="bad"))}
    assert not failing["imap"].ok and "permanent" in failing["imap"].detail and not failing["smtp"].ok


def test_config_refuses_plain_connections_to_remote_hosts():
    from dandelion.connectors.errors import ConfigError

    with pytest.raises(ConfigError) as exc:
        registry.get("email").validate_config({"imap_host": "imap.example.com", "imap_security": "none"})
    assert "loopback" in exc.value.errors["imap_security"]
    assert registry.get("email").capabilities_for({"imap_host": "x"}) == {"poll"}


# --- end to end through Dandelion -----------------------------------------------------------------------------------


@pytest.fixture
def email_account(inbox, dovecot, smtp, mailbox):
    from dandelion.assets import services as assets

    account = inbox.fr_account
    account.network, account.connector, account.external_id, account.handle = "email", "email", mailbox, mailbox
    account.connector_config = config(dovecot, smtp)
    account.save()
    assets.set_account_credentials(account, credentials={"imap_password": PASSWORD, "smtp_password": "smtp-secret"},
                                   expires_at=None, actor=inbox.users.hub_admin)
    smtp.clear()
    return account


def run_poll():
    from dandelion.inbox.jobs import poll_accounts, process_pending_deliveries

    summary = poll_accounts.call()
    process_pending_deliveries.call()
    return summary


@pytest.mark.django_db
def test_customer_mail_to_queue_reply_and_follow_up_in_one_conversation(inbox, email_account, dovecot, smtp):
    from dandelion.inbox import services
    from dandelion.inbox.jobs import deliver_reply
    from dandelion.inbox.models import Conversation, Message

    first_id, raw = mail(subject="Colis perdu", body="Bonjour, mon colis n'est pas arrivé, je suis inquiète.")
    dovecot.deliver(email_account.external_id, raw)
    assert run_poll()["events"] == 1
    conversation = Conversation.objects.get(messages__external_id=first_id)
    assert conversation.team == inbox.fr_team and conversation.account == email_account
    assert conversation.kind == "private" and conversation.needs_reply
    email_account.refresh_from_db()
    assert email_account.poll_state["last_uid"] == 1 and email_account.next_poll_at > timezone.now()

    reply = services.reply_to_conversation(conversation, text="Bonjour Camille, nous le retrouvons.",
                                           actor=inbox.users.fr_agent)
    outcome = deliver_reply.call(reply.pk)
    reply.refresh_from_db()
    assert outcome == "sent", reply.delivery_error
    reply.refresh_from_db()
    sent = smtp.received[-1].message
    assert sent["In-Reply-To"] == first_id and sent["References"] == first_id
    assert sent["Subject"] == "Re: Colis perdu" and sent["To"] == "camille@cust.test"
    assert reply.external_id == sent["Message-ID"] and reply.delivery_status == "sent"

    follow_id, raw = mail(subject="Re: Colis perdu", body="Merci ! Toujours pas reçu.\n\nOn Fri, Acme wrote:\n> old",
                          in_reply_to=sent["Message-ID"], references=f"{first_id} {sent['Message-ID']}")
    dovecot.deliver(email_account.external_id, raw)
    type(email_account).objects.filter(pk=email_account.pk).update(next_poll_at=None)  # due again now
    assert run_poll()["events"] == 1
    follow = Message.objects.get(external_id=follow_id)
    assert follow.conversation_id == conversation.pk and follow.text == "Merci ! Toujours pas reçu."
    assert Conversation.objects.filter(account=email_account).count() == 1
    type(email_account).objects.filter(pk=email_account.pk).update(next_poll_at=None)
    assert run_poll()["events"] == 0  # nothing new: nothing stored twice
    assert Message.objects.filter(conversation=conversation).count() == 3


@pytest.mark.django_db
def test_permanent_error_shows_on_health_and_clears_when_fixed(inbox, email_account, dovecot):
    from dandelion.assets import services as assets
    from dandelion.core.models import AuditEvent

    assets.set_account_credentials(email_account, credentials={"imap_password": "wrong"}, expires_at=None,
                                   actor=inbox.users.hub_admin)
    summary = run_poll()
    assert summary["failed"] == 1
    email_account.refresh_from_db()
    assert email_account.last_error.startswith("Polling: IMAP login refused") and "connector_error" in \
        email_account.health_flags()
    assert email_account.next_poll_at > timezone.now() + dt.timedelta(hours=5)  # permanent: retried slowly
    assert AuditEvent.objects.filter(action="assets.account.poll_failed").count() == 1
    assert run_poll()["accounts"] == 0  # not due again
    assets.set_account_credentials(email_account, credentials={"imap_password": PASSWORD}, expires_at=None,
                                   actor=inbox.users.hub_admin)  # new credentials: polled at once
    assert run_poll()["failed"] == 0
    email_account.refresh_from_db()
    assert email_account.last_error == "" and email_account.poll_failures == 0
    assert AuditEvent.objects.filter(action="assets.account.poll_recovered").count() == 1


@pytest.mark.django_db
def test_transient_errors_back_off_before_showing_on_health(inbox, email_account):
    from dandelion.assets.services import POLL_FAILURES_BEFORE_HEALTH
    from dandelion.inbox.polling import poll_account

    email_account.connector_config = {**email_account.connector_config, "imap_port": 1, "timeout_s": 2.0}
    email_account.save(update_fields=["connector_config"])
    delays = []
    for _ in range(POLL_FAILURES_BEFORE_HEALTH):
        outcome = poll_account(email_account.pk)
        email_account.refresh_from_db()
        assert outcome.error and not outcome.permanent
        delays.append((email_account.next_poll_at - timezone.now()).total_seconds())
    assert delays == sorted(delays) and delays[0] >= 50  # exponential backoff
    assert email_account.poll_failures == POLL_FAILURES_BEFORE_HEALTH
    assert email_account.last_error.startswith("Polling: cannot reach IMAP server")


@pytest.mark.django_db
def test_connectors_check_command(inbox, email_account):
    out = io.StringIO()
    call_command("connectors", "check", email_account.external_id, stdout=out)
    text = out.getvalue()
    assert "Connector: email" in text and "ok   imap login" in text and "All checks passed." in text
    assert "Capabilities: poll, reply" in text
    out = io.StringIO()
    call_command("connectors", "check", str(inbox.es_account.pk), stdout=out)  # a webhook account: config only
    assert "Connector: fake" in out.getvalue() and "ok   config" in out.getvalue()
    type(email_account).objects.filter(pk=email_account.pk).update(
        connector_config={**email_account.connector_config, "imap_port": 1, "timeout_s": 1.0})
    with pytest.raises(CommandError, match="check\\(s\\) failed"):
        call_command("connectors", "check", str(email_account.pk), stdout=io.StringIO())
    with pytest.raises(CommandError, match="no account"):
        call_command("connectors", "check", "nobody@nowhere.test", stdout=io.StringIO())


def _mail_with_attachments(big: bytes) -> tuple[str, bytes]:
    import base64

    def part(ctype: str, name: str, data: bytes) -> bytes:
        encoded = base64.encodebytes(data)
        return (f"--B\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: base64\r\n"
                f"Content-Disposition: attachment; filename=\"{name}\"\r\n\r\n").encode() + encoded + b"\r\n"

    msgid = f"<att{next(_counter)}@cust.test>"
    head = (f"From: Camille Martin <camille@cust.test>\r\nTo: {SUPPORT}\r\nSubject: Facture\r\nMessage-ID: {msgid}\r\n"
            f"Date: {email.utils.format_datetime(timezone.now())}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=B\r\n\r\n").encode()
    body = (b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVoici la facture et la photo.\r\n"
            + part("application/pdf", "../../etc/facture <mars>.pdf", b"%PDF-1.4 facture 42")
            + part("text/html", ".htaccess.html", b"<script>alert(1)</script>")
            + part("image/jpeg", "photo.jpg", big) + b"--B--\r\n")
    return msgid, head + body


@pytest.mark.django_db
def test_attachments_are_stored_bounded_sanitised_and_shown(inbox, email_account, dovecot, settings, tmp_path,
                                                            client):
    from django.urls import reverse

    from dandelion.inbox.attachments import storage
    from dandelion.inbox.models import Message, MessageAttachment

    settings.DANDELION_ATTACHMENTS_DIR = str(tmp_path / "attachments")
    settings.DANDELION_MAX_ATTACHMENT_BYTES = 50_000
    msgid, raw = _mail_with_attachments(b"\xff\xd8" + b"j" * 60_000)  # the photo is over the limit
    dovecot.deliver(email_account.external_id, raw)
    assert run_poll()["events"] == 1
    message = Message.objects.get(external_id=msgid)
    files = list(MessageAttachment.objects.filter(account=email_account, external_id=msgid))
    assert [(f.filename, f.content_type, f.stored) for f in files] == [
        ("facture _mars_.pdf", "application/pdf", True), ("htaccess.html", "text/html", True),
        ("photo.jpg", "image/jpeg", False)]
    pdf, html_file, photo = files
    assert pdf.size == len(b"%PDF-1.4 facture 42") and photo.size == 60_002 and photo.sha256 == ""
    assert storage().open(pdf.storage_name).read() == b"%PDF-1.4 facture 42"
    stored = [p.name for p in (tmp_path / "attachments").rglob("*") if p.is_file()]
    assert sorted(stored) == sorted([pdf.sha256, html_file.sha256])  # content-addressed: no sender name in a path

    client.force_login(inbox.users.fr_agent)
    page = client.get(reverse("inbox:conversation-detail", args=[message.conversation_id])).content.decode()
    assert "facture _mars_.pdf" in page and "photo.jpg" in page and "over the size limit" in page
    download = client.get(reverse("inbox:attachment-download", args=[message.conversation_id, html_file.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"<script>alert(1)</script>"
    assert download["Content-Type"] == "application/octet-stream" and download["X-Content-Type-Options"] == "nosniff"
    assert 'attachment; filename="htaccess.html"' in download["Content-Disposition"]
    assert client.get(reverse("inbox:attachment-download",
                              args=[message.conversation_id, photo.pk])).status_code == 404  # listed, not stored
    client.force_login(inbox.users.es_agent)  # another team's agent: the conversation is not theirs
    assert client.get(reverse("inbox:attachment-download",
                              args=[message.conversation_id, pdf.pk])).status_code == 404

    type(email_account).objects.filter(pk=email_account.pk).update(next_poll_at=None, poll_state={})
    run_poll()  # read again from the start (a lost cursor): nothing stored twice
    assert MessageAttachment.objects.filter(account=email_account).count() == 3
