"""Password rules wherever a password is set: kam createuser, the user_create service, the admin's
add and password forms and `kam manage changepassword`."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.test import Client

from factories import PASSWORD
from kam.cli import main
from kam.core.errors import ValidationFailed
from kam.core.services import user_create

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.mark.parametrize("password, rule", [
    ("abc", "too short"),
    ("12345678901234", "entirely numeric"),
    ("password123456", "too common"),
    ("newbie-2026", "too short"),
    ("newbie", "too similar to the username"),
])
def test_kam_createuser_refuses_a_weak_password_naming_the_rule(org, capsys, password, rule):
    assert main(["createuser", "newbie", "--role", "specialist", "--unit", "GZ", "--password", password]) == 2
    assert rule in capsys.readouterr().err
    assert not User.objects.filter(username="newbie").exists()


def test_a_password_equal_to_the_username_is_refused_and_abc_never_logs_in(org):
    with pytest.raises(ValidationFailed) as refused:
        user_create(username="zhangwei2026", role="specialist", unit=org.branch_a, password="zhangwei2026")
    assert "too similar to the username" in " ".join(refused.value.errors["password"])
    assert main(["createuser", "weak", "--role", "specialist", "--unit", "GZ", "--password", "abc"]) == 2
    assert not Client().login(username="weak", password="abc")


def test_a_good_password_is_accepted_and_logs_in(org, capsys):
    assert main(["createuser", "newbie", "--role", "specialist", "--unit", "GZ", "--password", "晨光-2026-go-go!"]) == 0
    assert Client().login(username="newbie", password="晨光-2026-go-go!")


def test_the_minimum_length_is_a_setting(org, settings):
    settings.KAM = {**settings.KAM, "PASSWORD_MIN_LENGTH": 20}
    with pytest.raises(ValidationFailed) as refused:
        user_create(username="newbie", role="specialist", unit=org.branch_a, password="only-17-chars-ok!")
    assert "at least 20 characters" in refused.value.message


def test_the_demo_and_test_passwords_pass_the_rules(org, settings):
    for username in ("admin", "gz_manager", "gz_th_spec1", "spec_a"):
        validate_password(settings.KAM["DEMO_PASSWORD"], User(username=username, display_name="张伟"))
        validate_password(PASSWORD, User(username=username))


def test_the_admin_add_form_refuses_a_weak_password(org):
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(org.admin)
    data = {"username": "newbie", "password1": "abc", "password2": "abc", "usable_password": "true",
            "role": "specialist", "unit": org.branch_a.pk, "display_name": ""}
    response = admin.post("/admin/core/user/add/", data)
    assert response.status_code == 200 and "too short" in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()
    response = admin.post("/admin/core/user/add/", {**data, "password1": "晨光-2026-go-go!", "password2": "晨光-2026-go-go!"})
    assert response.status_code == 302 and User.objects.filter(username="newbie").exists()


def test_the_admin_password_form_refuses_a_weak_password(org):
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(org.admin)
    response = admin.post(f"/admin/core/user/{org.specialist_a.pk}/password/", {"password1": "spec_a", "password2": "spec_a"})
    assert response.status_code == 200 and "too short" in response.content.decode()
    assert Client().login(username="spec_a", password=PASSWORD)


def test_kam_manage_changepassword_refuses_a_weak_password(org, monkeypatch, capsys):
    monkeypatch.setattr("django.contrib.auth.management.commands.changepassword.getpass.getpass",
                        lambda prompt="": "12345678")
    # `kam manage changepassword spec_a` runs this command (call_command keeps the test's connection open)
    with pytest.raises(CommandError, match="after 3 attempts"):
        call_command("changepassword", "spec_a")
    assert "entirely numeric" in capsys.readouterr().err
    assert Client().login(username="spec_a", password=PASSWORD)


def test_createsuperuser_without_input_and_a_shell_refuse_a_weak_password(org, monkeypatch):
    # given the non-interactive createsuperuser with a weak password in the environment
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "abc")
    with pytest.raises(CommandError, match="too short"):
        call_command("createsuperuser", "--noinput", "--username", "root2", "--email", "r@example.com")
    assert not User.objects.filter(username="root2").exists()
    # and set_password() + save() in a shell
    user = User.objects.get(username="spec_a")
    user.set_password("12345678")
    with pytest.raises(Exception, match="too short|entirely numeric"):
        user.save()
    assert Client().login(username="spec_a", password=PASSWORD)
    # a strong one goes through
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "晨光-2026-root-ok!")
    call_command("createsuperuser", "--noinput", "--username", "root2", "--email", "r@example.com")
    assert Client().login(username="root2", password="晨光-2026-root-ok!")
