"""Check 5: repeated bad passwords lock a username from an address, an address spraying many
usernames, and a username attacked from many addresses — each at its own limit — while nobody
can lock out everyone; every failure is logged."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from factories import PASSWORD
from kam.core.models import AuditEvent

pytestmark = pytest.mark.django_db

PAIR, ADDRESS, USERNAME = 3, 6, 5
WRONG = "wrong-password-1"


@pytest.fixture(autouse=True)
def throttled(settings):
    settings.AXES_ENABLED = True
    settings.KAM = {**settings.KAM, "LOGIN_FAILURE_LIMIT": PAIR, "LOGIN_IP_FAILURE_LIMIT": ADDRESS,
                    "LOGIN_USERNAME_FAILURE_LIMIT": USERNAME, "LOGIN_COOLOFF_MINUTES": 15, "LOGIN_TRUSTED_DAYS": 30}


def log_in(username: str, password: str, ip: str) -> int:
    """The status of one login attempt: 302 logged in, 200 wrong password, 429 locked."""
    return Client(REMOTE_ADDR=ip).post("/login/", {"username": username, "password": password}).status_code


def test_one_username_from_one_address_is_locked_at_its_limit(org):
    # given one failure short of the limit, the right password still gets in (and clears the count)
    for _ in range(PAIR - 1):
        assert log_in("spec_a", WRONG, "10.0.0.1") == 200
    assert log_in("spec_a", PASSWORD, "10.0.0.1") == 302
    # when the limit is reached
    statuses = [log_in("spec_a", WRONG, "10.0.0.1") for _ in range(PAIR)]
    # then the attempt that reaches it answers the locked page, and so does the right password
    assert statuses == [200] * (PAIR - 1) + [429]
    assert log_in("spec_a", PASSWORD, "10.0.0.1") == 429
    # but the same user from elsewhere, and another user from this address, are not locked
    assert log_in("spec_a", PASSWORD, "10.0.0.2") == 302
    assert log_in("spec_b", PASSWORD, "10.0.0.1") == 302


def test_the_lock_lifts_after_the_cool_off(org):
    for _ in range(PAIR):
        log_in("spec_a", WRONG, "10.0.0.1")
    assert log_in("spec_a", PASSWORD, "10.0.0.1") == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=14)):
        assert log_in("spec_a", PASSWORD, "10.0.0.1") == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert log_in("spec_a", PASSWORD, "10.0.0.1") == 302


def test_one_address_spraying_many_usernames_is_locked_at_its_own_limit(org):
    # given one password sprayed over usernames, once each, one short of the address limit
    names = [f"user{n}" for n in range(ADDRESS)]
    for name in names[:-1]:
        assert log_in(name, WRONG, "203.0.113.9") == 200
    # then a real user who never logged in from there still can
    assert log_in("spec_b", PASSWORD, "203.0.113.9") == 302
    # when the limit is reached (no username tried more than once)
    assert log_in(names[-1], WRONG, "203.0.113.9") == 429
    # then every username is refused from that address, even with its right password
    assert log_in("manager_b", PASSWORD, "203.0.113.9") == 429
    assert log_in("user0", WRONG, "203.0.113.9") == 429
    # but not from anywhere else
    assert log_in("manager_b", PASSWORD, "198.51.100.1") == 302


def test_one_username_from_many_addresses_is_throttled_at_its_own_limit(org):
    # given the user's usual desk
    assert log_in("spec_a", PASSWORD, "10.1.1.1") == 302
    # when a password is guessed from many addresses, once each: one short of the username limit
    for n in range(USERNAME - 1):
        assert log_in("spec_a", WRONG, f"198.51.100.{n + 1}") == 200
    assert log_in("spec_a", PASSWORD, "192.0.2.50") == 302
    # and at the limit
    assert log_in("spec_a", WRONG, "198.51.100.99") == 429
    # then guessing from any new address is refused, even with the right password
    assert log_in("spec_a", PASSWORD, "192.0.2.77") == 429
    # while the owner still logs in from where they did before
    assert log_in("spec_a", PASSWORD, "10.1.1.1") == 302
    assert log_in("spec_a", PASSWORD, "192.0.2.50") == 302


def test_an_attacker_cannot_lock_everyone_out(org):
    users = ["admin", "director", "manager_a", "spec_a", "spec_b"]
    # given everyone's usual address
    desks = {name: f"10.2.0.{n + 1}" for n, name in enumerate(users)}
    for name, desk in desks.items():
        assert log_in(name, PASSWORD, desk) == 302
    # when an attacker floods every username from many addresses, and sprays from each address
    for attempt in range(USERNAME + ADDRESS):
        for name in users:
            log_in(name, WRONG, f"198.51.{attempt}.{users.index(name) + 1}")
    assert log_in("spec_a", PASSWORD, "192.0.2.1") == 429  # the attack did lock new addresses
    # then everybody still logs in from their usual desk
    assert {name: log_in(name, PASSWORD, desk) for name, desk in desks.items()} == dict.fromkeys(users, 302)


def test_a_trusted_user_gets_in_from_an_address_that_is_spraying(org):
    # given a user who works from a shared address
    assert log_in("spec_b", PASSWORD, "10.3.0.1") == 302
    # when someone at that address sprays other usernames past the address limit
    for n in range(ADDRESS):
        log_in(f"guess{n}", WRONG, "10.3.0.1")
    assert log_in("manager_b", PASSWORD, "10.3.0.1") == 429
    # then the user who logs in from there is not locked out with the sprayer
    assert log_in("spec_b", PASSWORD, "10.3.0.1") == 302
    # yet guessing their password from there is still limited by the username+address counter
    statuses = [log_in("spec_b", WRONG, "10.3.0.1") for _ in range(PAIR)]
    assert statuses[-1] == 429 and log_in("spec_b", PASSWORD, "10.3.0.1") == 429


def test_failures_and_locks_are_logged_without_passwords(org):
    for _ in range(PAIR):
        log_in("spec_a", WRONG, "10.0.0.5")
    failures = AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN_FAILED, username="spec_a")
    assert failures.count() == PAIR
    assert set(failures.values_list("ip_address", flat=True)) == {"10.0.0.5"}
    lock = AuditEvent.objects.get(kind=AuditEvent.Kind.LOCKED_OUT)
    assert (lock.username, lock.ip_address, lock.detail["rule"]) == ("spec_a", "10.0.0.5", "username+ip")
    assert WRONG not in str(list(AuditEvent.objects.values_list("detail", "target")))


def test_the_locked_out_page_is_chinese(org, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    for _ in range(PAIR):
        response = Client(REMOTE_ADDR="10.0.0.6").post("/login/", {"username": "spec_a", "password": WRONG})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()


def test_an_administrator_unlocks_from_the_audit_page(org):
    for _ in range(PAIR):
        log_in("spec_a", WRONG, "10.0.0.7")
    assert log_in("spec_a", PASSWORD, "10.0.0.7") == 429
    admin = Client()
    admin.force_login(org.admin)
    page = admin.get("/audit/").content.decode()
    assert 'data-testid="login-locks"' in page and "spec_a" in page
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.get(username="spec_a")
    # a non-administrator cannot
    other = Client()
    other.force_login(org.manager_a)
    assert other.post(f"/audit/locks/{attempt.pk}/unlock/").status_code == 404
    assert log_in("spec_a", PASSWORD, "10.0.0.7") == 429
    # the administrator can, and it is on record
    assert admin.post(f"/audit/locks/{attempt.pk}/unlock/").status_code == 302
    assert log_in("spec_a", PASSWORD, "10.0.0.7") == 302
    unlocked = AuditEvent.objects.get(kind=AuditEvent.Kind.UNLOCKED)
    assert unlocked.username == "admin" and unlocked.detail["locked_username"] == "spec_a"
