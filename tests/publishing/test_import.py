import datetime as dt

import pytest
from django.utils import timezone

from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.publishing import importing, services
from dandelion.publishing.choices import PostState
from dandelion.publishing.models import Post

pytestmark = pytest.mark.django_db


def when(days: int) -> str:
    return (timezone.now() + dt.timedelta(days=days)).strftime("%Y-%m-%d 09:00")


def test_a_good_file_schedules_every_line(pub):
    data = (
        "accounts,text,scheduled_local,title\n"
        f"@brand_fr,Bonjour,{when(3)},Lundi\n"
        f"\"@brand_fr;x:@brand_fr_x\",Bonsoir,{when(4)},\n"
        "\n"
        f"{pub.fr_short.pk},Un brouillon sans date,,\n"
    ).encode("utf-8-sig")
    result = importing.import_posts_csv(actor=pub.users.fr_cm, unit=pub.france, data=data)
    assert result.by_state == {PostState.SCHEDULED: 2, PostState.APPROVED: 1}
    posts = list(Post.objects.order_by("id"))
    assert [p.title for p in posts] == ["Lundi", "", ""]
    assert posts[1].variants.count() == 2
    assert AuditEvent.objects.filter(action="publishing.post.import").count() == 1


def test_bad_lines_are_each_reported_and_nothing_is_imported(pub):
    services.create_rule(actor=pub.users.hub_admin, unit=pub.hub, name="No rivals", kind="banned_terms",
                         params={"terms": ["Globex"]})
    data = (
        "accounts,text,scheduled_local,is_sponsored\n"
        f"@brand_fr,Fine,{when(3)},no\n"                  # 2: fine
        f"@nobody,Hello,{when(3)},\n"                      # 3: unknown account
        f"x:@brand_fr_x,{'y' * 281},{when(3)},\n"         # 4: too long for X
        "@brand_fr,Hello,2001-01-01 09:00,\n"             # 5: in the past
        "@brand_fr,Hello,tomorrow,\n"                     # 6: not a time
        f"@brand_fr,Globex rocks,{when(3)},\n"            # 7: blocked by the guidelines
        f"@brand_fr,Hello,{when(3)},maybe\n"              # 8: not a boolean
        f"{pub.es_account.pk},Hola,{when(3)},\n"          # 9: an account outside France
    )
    with pytest.raises(importing.ImportInvalid) as err:
        importing.import_posts_csv(actor=pub.users.fr_cm, unit=pub.france, data=data)
    got = {e.line: (e.field, e.message) for e in err.value.errors}
    assert sorted(got) == [3, 4, 5, 6, 7, 8, 9]
    assert got[3][0] == "accounts" and "@nobody" in got[3][1]
    assert got[4][0] == "text" and "X (Twitter)" in got[4][1] and "281 of 280" in got[4][1]
    assert got[5] == ("scheduled_at", "The scheduled time is in the past.")
    assert got[6][0] == "scheduled_local"
    assert "Globex" in got[7][1]
    assert got[8][0] == "is_sponsored"
    assert got[9][0] == "accounts"
    assert err.value.status_code == 422
    assert not Post.objects.exists()  # line 2 was fine, and it is not half-imported either
    assert not AuditEvent.objects.filter(action__startswith="publishing.post").exists()


def test_header_encoding_size_and_emptiness(pub, settings):
    settings.DANDELION_MAX_IMPORT_BYTES = 1000
    def errors(data):
        with pytest.raises(importing.ImportInvalid) as err:
            importing.import_posts_csv(actor=pub.users.fr_cm, unit=pub.france, data=data)
        return [(e.line, e.field) for e in err.value.errors]

    assert errors(b"text,when\nx,y\n") == [(1, "header")]
    assert errors("accounts,text\n".encode("utf-16")) == [(0, "file")]
    assert errors(b"accounts,text\n") == [(2, "file")]
    assert errors(b"accounts,text\n@brand_fr,a,extra\n") == [(2, "file")]
    assert errors(b"x" * (importing.max_bytes() + 1)) == [(0, "file")]


def test_a_handle_on_two_networks_must_be_named_with_its_network(pub):
    pub.fr_short.handle = "@brand_fr"
    pub.fr_short.save(update_fields=["handle"])
    with pytest.raises(importing.ImportInvalid) as err:
        importing.import_posts_csv(actor=pub.users.fr_cm, unit=pub.france, data="accounts,text\n@brand_fr,Hi\n")
    assert "network:handle" in err.value.errors[0].message
    result = importing.import_posts_csv(actor=pub.users.fr_cm, unit=pub.france, submit=False,
                                        data="accounts,text\nx:@brand_fr,Hi\n")
    assert [p.state for p in result.posts] == [PostState.DRAFT]


def test_only_those_who_may_draft_may_import(pub):
    with pytest.raises(PermissionDeniedError):
        importing.import_posts_csv(actor=pub.users.fr_agent, unit=pub.france, data="accounts,text\n@brand_fr,a\n")
    with pytest.raises(PermissionDeniedError):
        importing.import_posts_csv(actor=pub.users.es_admin, unit=pub.france, data="accounts,text\n@brand_fr,a\n")
