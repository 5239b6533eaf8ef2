"""The Chinese catalogue is complete: every text marked for translation in the code and the
templates has a translation, none is fuzzy, and the compiled catalogue is the current one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.utils import translation

import kam

ROOT = Path(kam.__file__).parent
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MARKERS = {"_", "gettext", "gettext_lazy", "Label", "ngettext", "ngettext_lazy"}
TEMPLATE_TEXT = re.compile(r"""\{%\s*(?:translate|trans)\s+"([^"]+)"(?:\s+(?:as\s+\w+|noop|context\s+"[^"]*"))*\s*%\}""")


def _entries() -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of each live entry of the catalogue, header left out."""
    found = []
    for block in CATALOGUE.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        parts: dict[str, list[str]] = {}
        key = None
        for line in lines:
            if line.startswith(("msgid ", "msgstr ", "msgid_plural ", "msgstr[0] ")):
                key, _, rest = line.partition(" ")
                parts[key] = [ast.literal_eval(rest)]
            elif line.startswith('"') and key:
                parts[key].append(ast.literal_eval(line))
        if "msgid" not in parts:
            continue
        msgid = "".join(parts["msgid"])
        msgstr = "".join(parts.get("msgstr", parts.get("msgstr[0]", [""])))
        if msgid:
            found.append((msgid, msgstr, fuzzy))
    return found


def _marked_in_code() -> set[str]:
    texts = set()
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                texts.add(node.args[0].value)
    return texts


def _marked_in_templates() -> set[str]:
    return {match for path in ROOT.rglob("*.html") if "vendor" not in path.parts
            for match in TEMPLATE_TEXT.findall(path.read_text(encoding="utf-8"))}


def test_every_entry_is_translated_and_none_is_fuzzy():
    entries = _entries()
    assert len(entries) > 1000
    assert [msgid for msgid, msgstr, _ in entries if not msgstr] == []
    assert [msgid for msgid, _, fuzzy in entries if fuzzy] == []


def test_every_marked_text_of_the_code_and_templates_is_in_the_catalogue():
    known = {msgid for msgid, _, _ in _entries()}
    code, templates = _marked_in_code(), _marked_in_templates()
    assert len(code) > 500 and len(templates) > 300
    assert sorted((code | templates) - known) == []


def test_the_compiled_catalogue_is_the_current_one():
    msgid, msgstr, _ = _entries()[-1]
    translation.trans_real._translations.clear()
    with translation.override("zh-hans"):
        assert translation.gettext(msgid) == msgstr
