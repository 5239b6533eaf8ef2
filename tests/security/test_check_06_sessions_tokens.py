"""Check 6 (and 7's token half): sessions end when idle and at their absolute lifetime; logout,
deactivation and a new password end sessions and API tokens, whichever way they happen; tokens
expire, are listed and revoked with `kam token`, and are read only from the Authorization header."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from factories import PASSWORD
from kam.cli import main
from kam.core.models import ApiToken, AuditEvent
from kam.core.services import api_token_issue, user_deactivate
from tests.security.admin_forms import admin_change_form

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-pass-2027?"


def logged_in(user, password: str = PASSWORD) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=user.username, password=password)
    return client


def api_with(raw: str) -> int:
    return Client().get("/api/accounts", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code


def page_is_open(client: Client) -> bool:
    return client.get("/").status_code == 200


def session_api_is_open(client: Client) -> bool:
    return client.get("/api/accounts").status_code == 200


# --- sessions -----------------------------------------------------------------------------


def test_an_idle_session_ends_after_thirty_minutes(org, settings):
    assert settings.KAM["SESSION_IDLE_SECONDS"] == 30 * 60
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = logged_in(org.specialist_a)
        clock.shift(timedelta(minutes=29))
        assert page_is_open(client)
        clock.shift(timedelta(minutes=29))  # 29 minutes after the last request: still open
        assert page_is_open(client)
        clock.shift(timedelta(minutes=31))
        assert client.get("/").status_code == 302
        assert not page_is_open(client) and not session_api_is_open(client)
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGOUT, detail__reason="idle").count() == 1


def test_a_busy_session_ends_twelve_hours_after_its_login(org, settings):
    assert settings.KAM["SESSION_ABSOLUTE_SECONDS"] == 12 * 3600
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = logged_in(org.specialist_a)
        # a request every 20 minutes: never idle
        for _ in range(35):  # 11 h 40 min
            clock.shift(timedelta(minutes=20))
            assert page_is_open(client)
        clock.shift(timedelta(minutes=19))  # 11 h 59 min
        assert page_is_open(client)
        clock.shift(timedelta(minutes=2))  # 12 h 1 min
        assert not page_is_open(client)
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGOUT, detail__reason="lifetime").exists()


def test_logout_ends_the_session_for_pages_and_the_api(org):
    client = logged_in(org.specialist_a)
    cookie = client.cookies["sessionid"].value
    assert session_api_is_open(client)
    client.post("/logout/")
    # the old cookie, replayed, opens nothing
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert not page_is_open(replay) and not session_api_is_open(replay)


def test_logging_out_everywhere_ends_every_session_and_revokes_every_token(org):
    # given a specialist logged in on two devices, with a script's token
    phone, desk = logged_in(org.specialist_a), logged_in(org.specialist_a)
    raw = api_token_issue(user=org.specialist_a, name="报表脚本")
    other = logged_in(org.specialist_b)
    assert api_with(raw) == 200
    # when they log out everywhere from the phone
    answer = phone.post("/logout/everywhere/", follow=True)
    # then both devices are logged out, the token is revoked, and the page says what happened
    assert answer.redirect_chain[-1][0].startswith("/login/")
    assert "Other sessions ended: 1; API tokens revoked: 1." in answer.content.decode()
    assert not page_is_open(phone) and not page_is_open(desk)
    assert api_with(raw) == 401
    assert ApiToken.objects.get(user=org.specialist_a).revoked_because == ApiToken.RevokedBecause.LOGGED_OUT
    # and another user's session is untouched
    assert page_is_open(other)
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGOUT, user=org.specialist_a,
                                     detail__reason="everywhere").exists()
    # a GET logs nobody out
    again = logged_in(org.specialist_a)
    assert again.get("/logout/everywhere/").status_code == 405 and page_is_open(again)


# --- deactivation, whichever way ------------------------------------------------------------


@pytest.mark.parametrize("door", ["service", "admin form", "save"])
def test_deactivation_ends_sessions_and_tokens_whichever_way(org, door):
    raw = api_token_issue(user=org.specialist_a)
    session = logged_in(org.specialist_a)
    assert api_with(raw) == 200 and page_is_open(session)
    # when the user is deactivated
    if door == "service":
        user_deactivate(actor=org.admin, user=org.specialist_a)
    elif door == "admin form":
        admin = logged_in(org.admin)
        data = admin_change_form(admin, org.specialist_a)
        data.pop("is_active", None)
        response = admin.post(f"/admin/core/user/{org.specialist_a.pk}/change/", data)
        assert response.status_code == 302, response.context["adminform"].form.errors
    else:
        user = type(org.specialist_a).objects.get(pk=org.specialist_a.pk)
        user.is_active = False
        user.save()
    # then neither the token nor the session lets them in, and the token says why
    assert api_with(raw) == 401
    assert not page_is_open(session) and not session_api_is_open(session)
    token = ApiToken.objects.get(user=org.specialist_a)
    assert token.revoked_because == ApiToken.RevokedBecause.DEACTIVATED
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.TOKEN_REVOKED, detail__because="deactivated").exists()


# --- a new password, whichever way ---------------------------------------------------------------


@pytest.mark.parametrize("door", ["admin password form", "changepassword", "set_password"])
def test_a_new_password_ends_other_sessions_and_tokens(org, door, monkeypatch):
    raw = api_token_issue(user=org.specialist_a)
    other_session = logged_in(org.specialist_a)
    admin = logged_in(org.admin)
    # when the password is changed
    if door == "admin password form":
        response = admin.post(f"/admin/core/user/{org.specialist_a.pk}/password/",
                              {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        assert response.status_code == 302
    elif door == "changepassword":
        monkeypatch.setattr("django.contrib.auth.management.commands.changepassword.getpass.getpass",
                            lambda prompt="": NEW_PASSWORD)
        # `kam manage changepassword spec_a` runs this command (call_command keeps the test's connection open)
        call_command("changepassword", "spec_a")
    else:
        user = type(org.specialist_a).objects.get(pk=org.specialist_a.pk)
        user.set_password(NEW_PASSWORD)
        user.save()
    # then the old token and the user's sessions are dead; the admin who did it stays logged in
    assert api_with(raw) == 401
    assert not page_is_open(other_session)
    assert page_is_open(admin)
    assert ApiToken.objects.get(user=org.specialist_a).revoked_because == ApiToken.RevokedBecause.PASSWORD
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.PASSWORD, target__startswith="spec_a").exists()
    # and the new password works, and a new token too
    logged_in(org.specialist_a, NEW_PASSWORD)
    assert api_with(api_token_issue(user=org.specialist_a)) == 200


def test_a_password_hash_upgrade_at_login_revokes_nothing(org, settings):
    raw = api_token_issue(user=org.specialist_a)
    # given a stronger hasher than the one the password was stored with
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
                                 "django.contrib.auth.hashers.MD5PasswordHasher"]
    logged_in(org.specialist_a)
    org.specialist_a.refresh_from_db()
    assert org.specialist_a.password.startswith("pbkdf2_sha1$")  # rehashed on login
    assert api_with(raw) == 200


# --- token expiry and the command line ---------------------------------------------------------------


def test_tokens_expire_after_the_configured_days(org, settings):
    assert settings.KAM["API_TOKEN_DAYS"] == 90
    raw = api_token_issue(user=org.specialist_a)
    token = ApiToken.objects.get()
    assert abs(token.expires_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    with time_machine.travel(token.expires_at - timedelta(minutes=1)):
        assert api_with(raw) == 200
    with time_machine.travel(token.expires_at + timedelta(seconds=1)):
        assert api_with(raw) == 401


def test_kam_token_issues_lists_and_revokes(org, capsys):
    # issue: the token once on stdout, its expiry on stderr
    assert main(["token", "spec_a", "--days", "7", "--name", "报表脚本"]) == 0
    out, err = capsys.readouterr()
    raw = out.strip()
    assert raw.startswith("kam_") and len(raw.splitlines()) == 1
    token = ApiToken.objects.get()
    expires = timezone.localtime(token.expires_at).strftime("%Y-%m-%d %H:%M")
    assert f"expires {expires}" in err and token.expires_at - timezone.now() > timedelta(days=6, hours=23)
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.TOKEN, detail__token=token.pk).exists()
    # used, it shows when
    assert api_with(raw) == 200
    assert main(["token", "spec_a", "--list"]) == 0
    listing = capsys.readouterr().out
    row = next(line for line in listing.splitlines() if line.strip().startswith(str(token.pk)))
    last_used = timezone.localtime(ApiToken.objects.get().last_used_at).strftime("%Y-%m-%d %H:%M")
    assert "报表脚本" in row and token.prefix in row and last_used in row and expires in row and "active" in row
    # revoke one by its id
    second = api_token_issue(user=org.specialist_a, name="second")
    capsys.readouterr()
    assert main(["token", "spec_a", "--revoke", str(token.pk)]) == 0
    assert api_with(raw) == 401 and api_with(second) == 200
    revoked = AuditEvent.objects.get(kind=AuditEvent.Kind.TOKEN_REVOKED)
    assert revoked.detail["token"] == token.pk and revoked.detail["because"] == "asked"
    assert main(["token", "spec_a", "--list"]) == 0
    assert "revoked" in capsys.readouterr().out
    # and all of them
    assert main(["token", "spec_a", "--revoke", "all"]) == 0
    assert api_with(second) == 401


def test_kam_token_refuses_bad_requests(org, capsys):
    other = api_token_issue(user=org.specialist_b)
    other_id = ApiToken.objects.get().pk
    assert main(["token", "spec_a", "--revoke", str(other_id)]) == 2  # not theirs
    assert api_with(other) == 200
    assert main(["token", "spec_a", "--days", "0"]) == 2
    assert main(["token", "spec_a", "--days", "5000"]) == 2
    assert main(["token", "nobody"]) == 2
    assert "1 to 366 days" in capsys.readouterr().err
    assert ApiToken.objects.count() == 1


def test_tokens_are_read_only_from_the_authorization_header(org):
    raw = api_token_issue(user=org.specialist_a)
    client = Client()
    assert client.get(f"/api/accounts?token={raw}").status_code == 401
    assert client.get(f"/api/accounts?access_token={raw}").status_code == 401
    body = {"token": raw, "name": "某某科技有限公司"}
    assert client.post("/api/accounts", json.dumps(body), content_type="application/json").status_code == 401
    assert client.post("/api/accounts", {"token": raw, "access_token": raw}).status_code == 401
    assert client.get("/api/accounts", HTTP_X_API_TOKEN=raw).status_code == 401
    assert client.get("/api/accounts", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
