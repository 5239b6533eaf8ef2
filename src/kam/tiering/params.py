"""Editing a scheme's numbers on a form: the numeric leaves of its parameters as fields."""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from kam.core.errors import ValidationFailed


def _numeric(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            Decimal(value)
        except InvalidOperation:
            return False
        return True
    return False


def numeric_leaves(params: dict, scheme=None) -> list[tuple[str, str, str]]:
    """(path, label, value) of every number in the parameters, e.g. ("cuts.0", "cuts 1", "0.80")."""
    found: list[tuple[str, str, str]] = []

    def walk(node, path: list[str], label: list[str]) -> None:
        if isinstance(node, dict):
            named = node.get("label") or node.get("code")
            for key, value in node.items():
                if key in ("code", "label", "label_en"):
                    continue
                walk(value, [*path, key], [*label, str(named)] if named and key == "min" else [*label, key])
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, [*path, str(i)], label if isinstance(value, dict) else [*label, str(i + 1)])
        elif _numeric(node):
            found.append((".".join(path), " · ".join(label), str(node)))

    walk(params, [], [])
    return found


def with_values(params: dict, values: dict[str, str]) -> dict:
    """A copy of `params` with the numbers at the given paths replaced; refuses non-numbers."""
    result = copy.deepcopy(params)
    known = {path for path, _label, _value in numeric_leaves(params)}
    errors = {}
    for path, raw in values.items():
        if path not in known:
            continue
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            errors[path] = [_("Enter a number.")]
            continue
        if number < 0:
            errors[path] = [_("Enter a number that is not negative.")]
            continue
        node = result
        *parents, last = path.split(".")
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        key = int(last) if isinstance(node, list) else last
        node[key] = str(number) if isinstance(node[key], str) else (float(number) if isinstance(node[key], float)
                                                                       else int(number) if number == int(number)
                                                                       else float(number))
    if errors:
        raise ValidationFailed(_("Please correct the numbers below."), errors=errors)
    return result
