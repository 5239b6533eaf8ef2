"""Validators for Chinese identifiers, built on python-stdnum and phonenumbers."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength


def clean_uscc(value: str) -> str:
    """Return the compact USCC (统一社会信用代码) or raise with the rule it breaks."""
    try:
        return stdnum_uscc.validate(value)
    except InvalidLength as exc:
        raise ValidationError(
            _("A unified social credit code has 18 characters."), code="uscc_length"
        ) from exc
    except InvalidChecksum as exc:
        raise ValidationError(
            _("The check digit of this unified social credit code is wrong (GB 32100)."),
            code="uscc_checksum",
        ) from exc
    except (InvalidFormat, InvalidComponent) as exc:
        raise ValidationError(
            _("This is not a valid unified social credit code (GB 32100)."), code="uscc_format"
        ) from exc


def validate_uscc(value: str) -> None:
    if value:
        clean_uscc(value)


def clean_cn_mobile(value: str) -> str:
    """Return the mobile number as 11 digits, or raise if it is not a valid CN mobile."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Enter a mobile number such as 13812345678."), code="mobile") from exc
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("%(value)s is not a valid mainland China mobile number."),
            code="mobile",
            params={"value": value},
        )
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(
            _("%(value)s is a landline, not a mobile number."), code="mobile", params={"value": value}
        )
    return str(number.national_number)


def validate_cn_mobile(value: str) -> None:
    if value:
        clean_cn_mobile(value)


def clean_cn_phone(value: str) -> str:
    """Any valid CN phone (landline with area code, or mobile), in national format."""
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Enter a phone number such as 020-12345678."), code="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("%(value)s is not a valid phone number."), code="phone", params={"value": value}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def validate_cn_phone(value: str) -> None:
    if value:
        clean_cn_phone(value)


def uscc_complete(body17: str) -> str:
    """Append the GB 32100 check digit to the first 17 characters of a USCC."""
    return body17 + stdnum_uscc.calc_check_digit(body17 + "0")
