"""Chinese text keys for search and duplicate detection."""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache

from pypinyin import lazy_pinyin
from pypinyin.constants import RE_HANS
from pypinyin.core import Pinyin
from pypinyin.seg import mmseg

# Legal-form words that differ between two spellings of the same company.
_LEGAL_FORMS = (
    "股份有限公司", "有限责任公司", "有限公司", "集团公司", "股份公司",
    "co.,ltd.", "co., ltd.", "co.,ltd", "co. ltd", "company limited", "limited", "ltd.", "ltd",
)
_BRACKETS = re.compile(r"[()（）\[\]【】〔〕<>《》]")
_SPACES = re.compile(r"[\s\u3000·.,，、\-—_/]+")


def normalise_name(name: str) -> str:
    """A comparison key: full-width → half-width, case, brackets, legal form removed.

    北京某某科技有限责任公司 and 北京某某科技（有限公司） give the same key.
    """
    text = unicodedata.normalize("NFKC", name or "").lower()
    text = _BRACKETS.sub("", text)
    for form in _LEGAL_FORMS:
        text = text.replace(form, "")
    return _SPACES.sub("", text)


_NOT_HANZI = "\x00"


_SEGMENTER = Pinyin()
# pypinyin splits a text into Chinese and other runs a character at a time before it cuts
# the Chinese runs into words; one regular expression over its own character class does
# the split at once (a third of the cost of a company name's search key).
_HANS_CLASS = RE_HANS.pattern.removeprefix("^(?:").removesuffix(")+$")
_HANZI_RUN = re.compile(f"({_HANS_CLASS}+)") if _HANS_CLASS != RE_HANS.pattern else None


def _mark_not_hanzi(run: str) -> list[str]:
    return [_NOT_HANZI + run]


@lru_cache(maxsize=1 << 16)
def _word_syllables(word: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(word, errors=_mark_not_hanzi))


def _syllables(text: str) -> list[str]:
    """Pinyin syllables of the Chinese runs; other runs kept whole, marked with a NUL.

    The same as pypinyin's `lazy_pinyin(text)`, several times faster on company names:
    pypinyin converts each word of its segmentation on its own, so each word's syllables
    are remembered (names share most of their words: 市, 科技, 有限公司), and runs
    without Chinese characters need no conversion at all.
    """
    if _HANZI_RUN is None or not text:
        return [syllable for word in _SEGMENTER.seg(text or "") for syllable in _word_syllables(word)]
    syllables: list[str] = []
    for i, part in enumerate(_HANZI_RUN.split(text)):
        if not part:
            continue
        if i % 2:  # a Chinese run, cut into pypinyin's words
            for word in mmseg.seg.cut(part):
                syllables.extend(_word_syllables(word))
        else:
            syllables.append(_NOT_HANZI + part)
    return syllables


def pinyin_full(text: str) -> str:
    return "".join(s.lstrip(_NOT_HANZI) for s in _syllables(text)).lower()


def pinyin_initials(text: str) -> str:
    """First letters of each syllable: 中国移动 → zgyd. Non-Chinese characters are kept."""
    return "".join(s[1:] if s.startswith(_NOT_HANZI) else s[:1] for s in _syllables(text)).lower()


def search_key(*parts: str) -> str:
    """One lower-case string holding every form a user might type to find a record."""
    keys: list[str] = []
    for part in parts:
        if not part:
            continue
        plain = unicodedata.normalize("NFKC", part).lower()
        keys.append(plain)
        if plain.isascii():
            continue  # codes, numbers and Latin names: the pinyin forms would repeat `plain`
        # One segmentation serves both forms (it is most of the cost of an import row).
        syllables = _syllables(plain)
        keys.append("".join(s[1:] if s.startswith(_NOT_HANZI) else s[:1] for s in syllables))
        keys.append("".join(s.lstrip(_NOT_HANZI) for s in syllables))
    return "|".join(dict.fromkeys(k for k in keys if k))


# Two adjacent characters outside ASCII (Chinese, full-width) index a search text: a query of
# such characters only lies inside one run of them, so each of its pairs is one of the run's.
_WIDE_RUN = re.compile(r"[^\x00-\x7f]{2,}")


def wide_pairs(text: str) -> set[str]:
    """Every two adjacent non-ASCII characters of `text` (中国移动 → 中国, 国移, 移动)."""
    return {run[i:i + 2] for run in _WIDE_RUN.findall(text or "") for i in range(len(run) - 1)}


def normalise_query(q: str) -> str:
    return unicodedata.normalize("NFKC", q or "").strip().lower()


def name_similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, normalise_name(a), normalise_name(b)).ratio()
