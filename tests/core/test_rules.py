"""Validators, text keys, tokens, sessions and deployment settings."""

import subprocess
import sys
import time

import phonenumbers
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from pypinyin import lazy_pinyin
from pypinyin.constants import PHRASES_DICT
from stdnum.cn import uscc as stdnum_uscc

from kam.core.models import ApiToken, OrgUnit
from kam.core.services import api_token_issue, api_token_user, user_deactivate
from kam.core.text import _syllables, normalise_name, pinyin_initials, search_key
from kam.core.validators import clean_cn_mobile, clean_cn_phone, clean_uscc, uscc_complete

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@given(st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9), st.sampled_from(["440100", "110105"]))
def test_completed_uscc_is_valid_and_any_changed_character_is_caught(org_code, region):
    uscc = uscc_complete(f"91{region}{org_code}")
    assert clean_uscc(uscc) == uscc
    # The GB 32100 check digit catches every single-character substitution.
    wrong_last = next(c for c in USCC_ALPHABET if c != uscc[-1])
    with pytest.raises(ValidationError) as exc:
        clean_uscc(uscc[:-1] + wrong_last)
    assert exc.value.code == "uscc_checksum"


def test_uscc_length_and_format_rules_are_named():
    with pytest.raises(ValidationError) as exc:
        clean_uscc("9144")
    assert exc.value.code == "uscc_length"
    with pytest.raises(ValidationError) as exc:
        clean_uscc("ABCDEFGH1234567890")
    assert exc.value.code == "uscc_format"
    spaced = uscc_complete("91440300MA5F00000")
    assert clean_uscc(" ".join([spaced[:6], spaced[6:12], spaced[12:]])) == spaced
    assert stdnum_uscc.is_valid(spaced)


@pytest.mark.parametrize("raw, expected", [
    ("13812345678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"),
    ("0086-139-1234-5678", "13912345678"),
    ("19912345678", "19912345678"),
])
def test_valid_cn_mobiles(raw, expected):
    assert clean_cn_mobile(raw) == expected


@pytest.mark.parametrize("raw", ["1234", "12812345678", "020-12345678", "+1 415 555 0100", "abc"])
def test_invalid_cn_mobiles(raw):
    with pytest.raises(ValidationError):
        clean_cn_mobile(raw)


@given(st.one_of(st.text(alphabet=USCC_ALPHABET + "IOSVZa -", min_size=16, max_size=20),
                 st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17).map(uscc_complete)))
def test_uscc_fast_path_agrees_with_stdnum(value):
    try:
        expected = stdnum_uscc.validate(value)
    except Exception:
        expected = None
    try:
        assert clean_uscc(value) == expected
    except ValidationError:
        assert expected is None


@given(st.sampled_from(["0", "1", "00", "01", "02", "03", "04", "07", "08", "09", "+86 ", "+86 1", "400"]),
       st.text(alphabet="0123456789", min_size=3, max_size=11), st.sampled_from(["", "-", " ", "()"]))
def test_phone_fast_path_agrees_with_phonenumbers(prefix, rest, separator):
    """Landlines with their area code and mobiles skip the general parser: same verdict,
    and the text they give reads back as the same number."""
    value = f"({prefix}){rest}" if separator == "()" else f"{prefix}{separator}{rest}"
    try:
        reference = phonenumbers.parse(value, "CN")
        valid = phonenumbers.is_valid_number(reference)
    except phonenumbers.NumberParseException:
        valid = False
    try:
        text = clean_cn_phone(value)
    except ValidationError:
        assert not valid
        return
    assert valid
    again = phonenumbers.parse(text.replace("转", " ext. "), "CN")
    assert (again.country_code, again.national_number) == (reference.country_code, reference.national_number)


@given(st.sampled_from(["1", "13", "19", "+86 1", "2"]), st.text(alphabet="0123456789", min_size=8, max_size=11))
def test_mobile_fast_path_agrees_with_phonenumbers(prefix, rest):
    value = prefix + rest
    try:
        reference = phonenumbers.parse(value, "CN")
        valid = phonenumbers.is_valid_number(reference) and phonenumbers.number_type(reference) in (
            phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    except phonenumbers.NumberParseException:
        valid = False
    try:
        assert clean_cn_mobile(value) == str(reference.national_number) and valid
    except ValidationError:
        assert not valid


def test_phones_read_as_chinese_users_write_them():
    assert clean_cn_phone("(0755) 8123 4567") == clean_cn_phone("+86 755 8123 4567") == "0755-81234567"
    assert clean_cn_phone("010 6234 5678 ext. 12") == "010-62345678 转12"
    assert clean_cn_phone("+86 138 1234 5678") == "13812345678"
    assert clean_cn_phone("400-810-8888") == "400 810 8888"
    with pytest.raises(ValidationError):
        clean_cn_phone("0209999")


def test_name_key_ignores_width_brackets_and_legal_form():
    assert normalise_name("广州（天河）新华科技有限责任公司") == normalise_name("广州(天河)新华科技有限公司")
    assert normalise_name("ＡＢＣ科技股份有限公司") == "abc科技"


def test_search_key_holds_initials_and_full_pinyin():
    key = search_key("中国移动通信集团广东有限公司", "广东移动")
    assert pinyin_initials("中国移动") == "zgyd"
    assert "zgydtxjtgdyxgs" in key and "zhongguoyidong" in key and "gdyd" in key


_PHRASES = sorted(PHRASES_DICT)[::97]  # a spread of pypinyin's phrases, polyphones included


@given(st.lists(st.one_of(st.sampled_from(_PHRASES), st.sampled_from(["银行", "重庆", "长沙", "行长", "A1", "（", " co."]),
                          st.text(alphabet="中国重行长乐都会还朝和", max_size=4)), max_size=6))
def test_syllables_word_by_word_equal_pypinyin_on_the_whole_text(pieces):
    text = "".join(pieces)
    assert _syllables(text) == lazy_pinyin(text, errors=lambda run: ["\x00" + run])


def test_org_subtree_is_a_prefix(org):
    assert set(org.branch_a.subtree_ids()) == {org.branch_a.pk, org.office_a1.pk, org.office_a2.pk}
    assert set(OrgUnit.objects.get(code="HQ").subtree_ids()) == set(OrgUnit.objects.values_list("pk", flat=True))


def test_token_is_stored_hashed_and_revoked_with_deactivation(org, client):
    raw = api_token_issue(user=org.specialist_a)
    assert not ApiToken.objects.filter(digest=raw).exists()
    assert api_token_user(raw) == org.specialist_a
    client.force_login(org.specialist_a)
    assert client.session.session_key
    user_deactivate(user=org.specialist_a)
    assert api_token_user(raw) is None
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=client.session.session_key).exists()


def test_idle_session_is_logged_out(org, client, settings):
    settings.KAM = {**settings.KAM, "SESSION_IDLE_SECONDS": 60}
    client.force_login(org.specialist_a)
    session = client.session
    session["kam_last_seen"] = int(time.time()) - 3600
    session.save()
    client.get("/admin/")  # any request passes the middleware
    assert "_auth_user_id" not in client.session


def test_createuser_command_refuses_unknown_unit_and_role(org, capsys):
    from kam.cli import main

    assert main(["createuser", "newbie", "--role", "specialist", "--unit", "NOPE"]) == 2
    assert main(["createuser", "newbie", "--role", "pilot", "--unit", "GZ"]) == 2
    assert main(["createuser", "newbie", "--role", "specialist", "--unit", "GZ", "--password", "x-9!long-pass"]) == 0
    assert get_user_model().objects.get(username="newbie").unit == org.branch_a


@pytest.mark.django_db
def test_deploy_check_passes_with_production_settings(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin", "KAM_HOME": str(tmp_path), "KAM_HTTPS": "1",
        "KAM_SECRET_KEY": "x" * 64 + "-production-secret-key-for-the-check", "KAM_ALLOWED_HOSTS": "kam.example.cn",
    }
    result = subprocess.run(
        [sys.executable, "-m", "kam.cli", "manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_logins_and_failed_logins_are_audited_without_passwords(org, client):
    from factories import PASSWORD
    from kam.core.models import AuditEvent

    # when a wrong password, then the right one, are tried
    client.login(username="spec_a", password="wrong-guess")
    client.login(username="spec_a", password=PASSWORD)
    # then both attempts are on record, the failure with the username only
    kinds = list(AuditEvent.objects.order_by("at", "id").values_list("kind", "username"))
    assert ("login", "spec_a") in kinds
    assert ("login_failed", "spec_a") in kinds
    assert "wrong-guess" not in str(list(AuditEvent.objects.values_list("detail", flat=True)))


def test_audit_log_is_read_only_in_the_admin(org, admin_client):
    from kam.core.models import AuditEvent

    event = AuditEvent.objects.create(kind="login", username="x")
    assert admin_client.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize("raw, expected", [("120000", "120000.00"), (" 99.995 ", "100.00"), (0, "0.00"),
                                           ("99999999999999.99", "99999999999999.99")])
def test_money_is_yuan_to_the_fen(raw, expected):
    from decimal import Decimal

    from kam.core.money import parse_yuan

    assert parse_yuan(raw, field="amount") == Decimal(expected)


@pytest.mark.parametrize("raw", ["一万", "NaN", "Infinity", "-1", "1e14", "12,000"])
def test_money_refusals_name_the_field(raw):
    from kam.core.errors import ValidationFailed
    from kam.core.money import parse_yuan

    with pytest.raises(ValidationFailed) as refused:
        parse_yuan(raw, field="quote")
    assert list(refused.value.errors) == ["quote"]


def test_empty_money_is_none_unless_required():
    from kam.core.errors import ValidationFailed
    from kam.core.money import parse_yuan

    assert parse_yuan("  ", field="amount") is None
    with pytest.raises(ValidationFailed):
        parse_yuan(None, field="amount", required=True)
