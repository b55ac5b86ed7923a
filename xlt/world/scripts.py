"""Writing systems of the synthetic world.

Every word is generated in a romanised form (lower-case Latin letters) and then written in its
language's script. Native words and foreign names differ where real orthographies differ: Arabic
omits short vowels in native words but spells foreign names with long-vowel letters; Han writes
one character per syllable (so a foreign name becomes a string of phonetic characters).
"""

from __future__ import annotations

import re
import zlib

SCRIPTS = ("latin", "cyrillic", "arabic", "devanagari", "han")
CASED_SCRIPTS = ("latin", "cyrillic")

VOWELS = "aeiouy"


def _greedy(word: str, table: dict[str, str]) -> list[str]:
    """Split ``word`` into the longest keys of ``table`` (unknown characters pass through)."""
    keys = sorted(table, key=len, reverse=True)
    out, i = [], 0
    while i < len(word):
        for k in keys:
            if word.startswith(k, i):
                out.append(k)
                i += len(k)
                break
        else:
            out.append(word[i])
            i += 1
    return out


_CYRILLIC = {
    "shch": "щ", "zh": "ж", "kh": "х", "ts": "ц", "ch": "ч", "sh": "ш", "ya": "я", "yu": "ю",
    "yo": "ё", "a": "а", "b": "б", "v": "в", "g": "г", "d": "д", "e": "е", "z": "з", "i": "и",
    "y": "ы", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "r": "р", "s": "с",
    "t": "т", "u": "у", "f": "ф", "c": "к", "h": "х", "j": "й", "w": "в", "x": "кс", "q": "к",
}  # fmt: skip

_ARABIC_CONS = {
    "th": "ث", "kh": "خ", "sh": "ش", "gh": "غ", "dh": "ذ", "b": "ب", "t": "ت", "j": "ج", "h": "ح",
    "d": "د", "r": "ر", "z": "ز", "s": "س", "q": "ق", "k": "ك", "l": "ل", "m": "م", "n": "ن",
    "w": "و", "y": "ي", "f": "ف", "p": "ب", "v": "ف", "g": "غ", "c": "ك", "x": "كس",
}  # fmt: skip
_ARABIC_LONG = {"aa": "ا", "ii": "ي", "uu": "و", "ai": "ي", "au": "و", "ei": "ي", "ou": "و"}
_ARABIC_SHORT = {"a": "ا", "e": "ي", "i": "ي", "o": "و", "u": "و", "y": "ي"}

_DEVA_CONS = {
    "kh": "ख", "gh": "घ", "ch": "च", "jh": "झ", "th": "थ", "dh": "ध", "ph": "फ", "bh": "भ",
    "sh": "श", "k": "क", "g": "ग", "j": "ज", "t": "त", "d": "द", "n": "न", "p": "प", "b": "ब",
    "m": "म", "y": "य", "r": "र", "l": "ल", "v": "व", "w": "व", "s": "स", "h": "ह", "z": "ज़",
    "f": "फ़", "c": "क", "q": "क", "x": "क्स",
}  # fmt: skip
_DEVA_VOWEL = {"aa": "आ", "ii": "ई", "uu": "ऊ", "ai": "ऐ", "au": "औ", "a": "अ", "i": "इ",
               "u": "उ", "e": "ए", "o": "ओ", "y": "इ", "ei": "ए", "ou": "ओ", "ie": "ई"}  # fmt: skip
_DEVA_SIGN = {"aa": "ा", "ii": "ी", "uu": "ू", "ai": "ै", "au": "ौ", "a": "", "i": "ि", "u": "ु",
              "e": "े", "o": "ो", "y": "ि", "ei": "े", "ou": "ो", "ie": "ी"}  # fmt: skip
_VIRAMA = "्"

# A fixed pool of common CJK ideographs; a syllable maps to one of them by a stable hash.
_HAN_POOL = [chr(c) for c in range(0x4E00, 0x9FA5) if (c * 2654435761) % 37 == 0][:700]
_SYLLABLE = re.compile(r"[^aeiouy]*[aeiouy]+(?:ng|n|r)?(?![aeiouy])|[^aeiouy]+$")


def syllabify(word: str) -> list[str]:
    """A rough syllabification of a romanised word (consonants* vowels+ [n|ng|r])."""
    parts = _SYLLABLE.findall(word.lower())
    return [p for p in parts if p] or [word]


def han_char(syllable: str) -> str:
    return _HAN_POOL[zlib.crc32(syllable.encode()) % len(_HAN_POOL)]


def _cyrillic(word: str) -> str:
    return "".join(_CYRILLIC.get(u, u) for u in _greedy(word, _CYRILLIC))


def _arabic(word: str, foreign: bool) -> str:
    units = _greedy(word, {**_ARABIC_CONS, **_ARABIC_LONG, **_ARABIC_SHORT})
    out = []
    for i, u in enumerate(units):
        if u in _ARABIC_CONS:
            out.append(_ARABIC_CONS[u])
        elif u in _ARABIC_LONG:
            out.append(_ARABIC_LONG[u])
        elif u in _ARABIC_SHORT:
            # native orthography drops short vowels inside the word; names keep them
            if foreign or i == 0 or i == len(units) - 1:
                out.append("ا" if i == 0 and u in "aeiou" else _ARABIC_SHORT[u])
        else:
            out.append(u)
    return "".join(out)


def _devanagari(word: str) -> str:
    units = _greedy(word, {**_DEVA_CONS, **_DEVA_VOWEL})
    out, i = [], 0
    while i < len(units):
        u = units[i]
        nxt = units[i + 1] if i + 1 < len(units) else None
        if u in _DEVA_CONS:
            out.append(_DEVA_CONS[u])
            if nxt in _DEVA_SIGN:
                out.append(_DEVA_SIGN[nxt])
                i += 1
            elif nxt in _DEVA_CONS:
                out.append(_VIRAMA)
        elif u in _DEVA_VOWEL:
            out.append(_DEVA_VOWEL[u])
        else:
            out.append(u)
        i += 1
    return "".join(out)


def _han(word: str) -> str:
    return "".join(han_char(s) for s in syllabify(word))


def write(word: str, script: str, *, foreign: bool = False) -> str:
    """Write a romanised word in ``script``. Digits and punctuation pass through unchanged."""
    if script == "latin" or not word or not word[0].isalpha():
        return word
    w = word.lower()
    if script == "cyrillic":
        return _cyrillic(w)
    if script == "arabic":
        return _arabic(w, foreign)
    if script == "devanagari":
        return _devanagari(w)
    if script == "han":
        return _han(w)
    raise ValueError(f"unknown script {script!r}; choose one of {SCRIPTS}")


def capitalise(word: str) -> str:
    return word[:1].upper() + word[1:]
