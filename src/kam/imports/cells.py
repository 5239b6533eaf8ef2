"""Cell parsers: one spreadsheet cell in, one typed value out, or a CellError naming the rule.

Pure functions, no database: the importers call them for every cell of every row,
and the fuzz tests call them with anything at all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext as _

from kam.core.validators import clean_cn_mobile, clean_cn_phone, clean_name, clean_uscc


class CellError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _messages(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def as_text(value: Any) -> str:
    """How a cell reads as text: 13800138000.0 from Excel is the number 13800138000."""
    if isinstance(value, str):  # nearly every cell
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e18 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


@lru_cache(maxsize=8192, typed=True)  # the same industries, regions and people on every row
def key(value: Any) -> str:
    """Comparison form of a word typed by a person: full-width → half-width, case, spaces."""
    return re.sub(r"[\s\u3000]+", "", unicodedata.normalize("NFKC", as_text(value))).lower()


def text(max_length: int | None = None) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        result = as_text(value)
        if max_length is not None and len(result) > max_length:
            raise CellError(_("At most %(max)d characters (this has %(n)d).") % {"max": max_length, "n": len(result)})
        return result

    return parse


def name(max_length: int | None = None) -> Callable[[Any], str]:
    """A name: one line of plain text, the rule of kam.core.validators.clean_name."""
    as_limited_text = text(max_length)

    def parse(value: Any) -> str:
        try:
            return clean_name(as_limited_text(value))
        except ValidationError as exc:
            raise CellError(_messages(exc)) from exc

    return parse


def uscc(value: Any) -> str:
    try:
        return clean_uscc(as_text(value).upper())
    except ValidationError as exc:
        raise CellError(_messages(exc)) from exc


def mobile(value: Any) -> str:
    try:
        return clean_cn_mobile(as_text(value))
    except ValidationError as exc:
        raise CellError(_messages(exc)) from exc


def phone(value: Any) -> str:
    try:
        return clean_cn_phone(as_text(value))
    except ValidationError as exc:
        raise CellError(_messages(exc)) from exc


def email(max_length: int) -> Callable[[Any], str]:
    check = EmailValidator()

    def parse(value: Any) -> str:
        result = text(max_length)(value)
        try:
            check(result)
        except ValidationError as exc:
            raise CellError(_("%(value)s is not an e-mail address.") % {"value": result}) from exc
        return result

    return parse


def url(max_length: int) -> Callable[[Any], str]:
    check = URLValidator()

    def parse(value: Any) -> str:
        result = text(max_length)(value)
        if "://" not in result:
            result = f"https://{result}"
        try:
            check(result)
        except ValidationError as exc:
            raise CellError(_("%(value)s is not a web address.") % {"value": as_text(value)}) from exc
        return text(max_length)(result)

    return parse


_MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}
_MONEY_NOISE = re.compile(r"[,，\s元¥￥]|rmb|cny", re.IGNORECASE)


def decimal(max_digits: int, places: int) -> Callable[[Any], Decimal]:
    """Amounts as Excel users type them: 1,234.5 / ￥1234.50 / 1234元 / 12.5万 / 1.2亿."""

    def parse(value: Any) -> Decimal:
        if isinstance(value, bool) or isinstance(value, date | time):
            raise CellError(_("Enter an amount such as 12345.67."))
        if isinstance(value, int | float):
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        else:
            raw = unicodedata.normalize("NFKC", as_text(value))
            raw = _MONEY_NOISE.sub("", raw)
            factor = Decimal(1)
            if raw and raw[-1] in _MULTIPLIERS:
                factor, raw = _MULTIPLIERS[raw[-1]], raw[:-1]
            try:
                number = Decimal(raw) * factor
            except InvalidOperation as exc:
                raise CellError(_("%(value)s is not an amount.") % {"value": as_text(value)}) from exc
        if not number.is_finite():
            raise CellError(_("%(value)s is not an amount.") % {"value": as_text(value)})
        quantised = number.quantize(Decimal(1).scaleb(-places)) if number.as_tuple().exponent < -places else number
        if quantised != number:
            raise CellError(_("At most %(places)d decimal places.") % {"places": places})
        if abs(number) >= Decimal(10) ** (max_digits - places):
            raise CellError(_("The amount is too large."))
        return quantised.quantize(Decimal(1).scaleb(-places))

    return parse


def integer(minimum: int = 0, maximum: int = 2_147_483_647) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise CellError(_("Enter a whole number."))
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        raw = value if isinstance(value, int) else re.sub(r"[,，\s人天]", "", unicodedata.normalize("NFKC", as_text(value)))
        try:
            number = int(raw)
        except (TypeError, ValueError) as exc:
            raise CellError(_("%(value)s is not a whole number.") % {"value": as_text(value)}) from exc
        if not minimum <= number <= maximum:
            raise CellError(_("Enter a number from %(min)d to %(max)d.") % {"min": minimum, "max": maximum})
        return number

    return parse


_ISO_DAY = re.compile(r"\d{4}-\d\d-\d\d")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def a_date(value: Any) -> date:
    if isinstance(value, date):
        day = value.date() if isinstance(value, datetime) else value
        if not 1900 <= day.year <= 2200:
            raise CellError(_("%(value)s is not a date; write it as 2026-03-31.") % {"value": day.isoformat()})
        return day
    raw = unicodedata.normalize("NFKC", as_text(value)).replace(" ", "")
    raw = raw.split("T")[0] if re.fullmatch(r"\d{4}-\d\d-\d\dT.*", raw) else raw
    if _ISO_DAY.fullmatch(raw):  # the usual form, read without strptime
        try:
            parsed = date.fromisoformat(raw)
        except ValueError:
            pass
        else:
            if 1900 <= parsed.year <= 2200:
                return parsed
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
        if 1900 <= parsed.year <= 2200:
            return parsed
    raise CellError(_("%(value)s is not a date; write it as 2026-03-31.") % {"value": as_text(value)})


_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "有", "t", "对"}
_FALSE = {"否", "n", "no", "false", "0", "×", "✗", "x", "无", "f", "不是"}


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = key(value)
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise CellError(_("Write 是 or 否 (yes or no)."))


def choice(options: Iterable[tuple[str, Iterable[str]]]) -> Callable[[Any], str]:
    """`options`: (stored value, the words a user may write for it)."""
    words: dict[str, str] = {}
    shown: list[str] = []
    for value, names in options:
        names = list(names)
        if value:
            shown.append(names[0] if names else value)
        for name in [value, *names]:
            words.setdefault(key(name), value)

    def parse(value: Any) -> str:
        found = words.get(key(value))
        if found is None:
            raise CellError(
                _("%(value)s is not one of: %(allowed)s.") % {"value": as_text(value), "allowed": "、".join(shown)}
            )
        return found

    return parse
