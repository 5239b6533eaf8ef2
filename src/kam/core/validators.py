"""Validators for Chinese identifiers, built on python-stdnum and phonenumbers."""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}")


def clean_uscc(value: str) -> str:
    """Return the compact USCC (统一社会信用代码) or raise with the rule it breaks.

    A code already written compactly (as nearly every imported cell is) only needs its
    GB 32100 check digit computed; anything else goes through python-stdnum, which
    also says which rule a malformed code breaks.
    """
    if _USCC_SHAPE.fullmatch(value):
        total = sum(_USCC_VALUE[c] * w for c, w in zip(value[:17], _USCC_WEIGHTS, strict=True))
        if value[17] == _USCC_ALPHABET[-total % 31]:
            return value
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


_PHONE_PUNCTUATION = re.compile(r"[\s\-()（）]+")


def clean_cn_mobile(value: str) -> str:
    """Return the mobile number as 11 digits, or raise if it is not a valid CN mobile."""
    digits = _PHONE_PUNCTUATION.sub("", value)
    if len(digits) == 11 and digits.isascii() and digits.isdigit() and digits[0] == "1":
        number = phonenumbers.PhoneNumber(country_code=86, national_number=int(digits))  # the usual shape
    else:
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
    """Any valid CN phone, as Chinese users write it: 020-81234567, 0755-81234567,
    13812345678; 400 lines in phonenumbers' national format, foreign numbers in its
    international one.

    The common shapes — a landline with its 0 area code, an 11-digit mobile — skip
    phonenumbers' general parser (half the cost of an imported row's phone); its
    metadata still decides whether the number is valid.
    """
    digits = _PHONE_PUNCTUATION.sub("", value)
    if digits.isascii() and digits.isdigit() and (
        digits[:1] == "0" != digits[1:2] or (digits[:1] == "1" and len(digits) == 11)
    ):
        number = phonenumbers.PhoneNumber(country_code=86, national_number=int(digits.lstrip("0") or "0"))
    else:
        try:
            number = phonenumbers.parse(value, "CN")
        except phonenumbers.NumberParseException as exc:
            raise ValidationError(_("Enter a phone number such as 020-12345678."), code="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("%(value)s is not a valid phone number."), code="phone", params={"value": value}
        )
    return _phone_text(number)


def _phone_text(number: phonenumbers.PhoneNumber) -> str:
    national = str(number.national_number)
    extension = f" 转{number.extension}" if number.extension else ""
    if number.country_code == 86 and len(national) == 11 and national[0] == "1":
        return national + extension  # a mobile
    if number.country_code == 86 and 9 <= len(national) <= 11 and not national.startswith(("400", "800")):
        # A landline: area codes 10 and 20–29 have two digits, the others three.
        area = 2 if national[0] in "12" else 3
        return f"0{national[:area]}-{national[area:]}{extension}"
    if number.country_code != 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def validate_cn_phone(value: str) -> None:
    if value:
        clean_cn_phone(value)


def uscc_complete(body17: str) -> str:
    """Append the GB 32100 check digit to the first 17 characters of a USCC."""
    return body17 + stdnum_uscc.calc_check_digit(body17 + "0")


# What a name (of an account, contact, lead, opportunity, unit, list entry, person…) cannot
# hold: control characters (tab, line breaks, NUL — Unicode's Cc), line and paragraph
# separators, and the bidirectional controls that make a name read differently from what it
# is. A name is one line of plain text wherever it is shown, exported or matched.
_NOT_IN_A_NAME = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
# Spaces around a name are dropped (a slip of the keyboard); nothing else is.
NAME_SPACES = " \u3000"


def _character(char: str) -> str:
    if char == "\t":
        return str(_("a tab"))
    if char in "\r\n\u2028\u2029\x85":
        return str(_("a line break"))
    return str(_("the control character U+%(code)04X") % {"code": ord(char)})


def validate_name(value: str) -> None:
    """Refuse a name holding a character that is not plain one-line text, saying which."""
    if value and (found := _NOT_IN_A_NAME.search(value)):
        raise ValidationError(
            _("A name is one line of plain text: remove %(character)s."),
            code="name_characters", params={"character": _character(found.group())},
        )


def clean_name(value: str) -> str:
    """A name as typed: the spaces around it dropped, then the rule of `validate_name`."""
    value = value.strip(NAME_SPACES)
    validate_name(value)
    return value
