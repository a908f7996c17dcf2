"""Django's full password validators apply wherever a password is set: reset and invitation (their own tests),
the admin's forms and the validation API itself."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("password", ["hana.hub", "hana.hub@example.org", "HanaHub1", "password1234",
                                      "31415926535", "Short-1"])
def test_weak_passwords_are_refused(password):
    user = UserFactory(username="hana.hub", email="hana.hub@example.org", first_name="Hana", last_name="Hub")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_long_unrelated_password_passes():
    user = UserFactory(username="hana.hub", email="hana.hub@example.org")
    validate_password("Velvet-compass-62-dune", user)


def test_every_django_validator_is_configured(settings):
    names = {v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS}
    assert names == {"UserAttributeSimilarityValidator", "MinimumLengthValidator", "CommonPasswordValidator",
                     "NumericPasswordValidator"}


def test_admin_add_user_refuses_the_username_as_password(client_for):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    admin = client_for(root)
    resp = admin.post("/admin/auth/user/add/", {"username": "samira.k", "password1": "samira.k",
                                                "password2": "samira.k", "usable_password": "true"})
    assert resp.status_code == 200
    assert "too similar to the username" in resp.content.decode()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="samira.k").exists()


def test_admin_password_change_refuses_weak_passwords(client_for):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    target = UserFactory(username="samira.k")
    resp = client_for(root).post(f"/admin/auth/user/{target.pk}/password/",
                                 {"password1": "12345678901", "password2": "12345678901",
                                  "usable_password": "true"})
    assert resp.status_code == 200 and "entirely numeric" in resp.content.decode()
