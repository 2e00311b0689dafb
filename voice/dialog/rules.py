"""Safety and routing rules that do not depend on the knowledge base: which language a turn is in, forbidden
topics, and text that tries to give the assistant orders (noted, never obeyed: it is treated as ordinary words).
"""
from __future__ import annotations

import re
import unicodedata

from voice.dialog import text as tx

_SCRIPTS = (("CYRILLIC", "ru"), ("ARABIC", "ar"), ("HEBREW", "he"), ("GREEK", "el"), ("DEVANAGARI", "hi"),
            ("THAI", "th"), ("HANGUL", "ko"), ("HIRAGANA", "ja"), ("KATAKANA", "ja"), ("CJK", "zh"))
# Frequent function words, chosen to be rare in the other languages listed.
_FUNCTION_WORDS = {
    "en": "the and you your is are what do does how can i my we have for with this that to of it please".split(),
    "es": "el la los las que de y en por para una es quiero hola gracias usted tiene cuanto cuesta necesito "
          "hablar puedo con una cita donde esta buenos dias".split(),
    "fr": "le la les des est et je vous une pour avec bonjour merci combien voudrais rendez ou sont etes suis "
          "pas est-ce quel quelle".split(),
    "de": "der die das und ist ich sie nicht ein eine mit fur guten tag danke wie viel kostet mochte termin "
          "haben sind bitte wann".split(),
    "it": "il lo gli che di e un una per sono buongiorno grazie quanto costa vorrei appuntamento dove siete "
          "avete non".split(),
    "pt": "o os as que de e um uma para com obrigado obrigada quanto custa quero marcar consulta onde voce "
          "vocês bom dia nao".split(),
    "nl": "de het een en ik u je van niet met voor hoeveel kost wil afspraak waar zijn goedemorgen dank "
          "alstublieft".split(),
}
_FUNCTION_SETS = {lang: set(words) for lang, words in _FUNCTION_WORDS.items()}

_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget) (?:all |any |your |the )?(?:previous |prior |above )?(?:instructions|rules|"
    r"prompt)|\bsystem prompt\b|\byou are now\b|\bact as\b|\bpretend (?:to be|you are)\b|\bjailbreak\b|"
    r"\bdeveloper mode\b|<\s*/?\s*(?:system|script)\b|\bdrop table\b|;\s*--|\bunion select\b|"
    r"\bselect\b.{1,40}\bfrom\b|'\s*(?:or\s*)?'?1'?\s*=\s*'?1")


_CODE = re.compile(
    r"\b(?:drop|truncate|alter|create)\s+(?:table|database|schema)\b|\bunion\s+(?:all\s+)?select\b|"
    r"\bselect\s+(?:\*|distinct\b|count\s*\(|[\w.]+\s*,\s*[\w.]+)|\bselect\b.{1,60}\bfrom\b.{1,60}\bwhere\b|"
    r"\bdelete\s+from\s+\w+\s*(?:;|$|where\b)|\binsert\s+into\b|\bupdate\s+\w+\s+set\b|"
    r"\bexec(?:ute)?\s*\(|;\s*--|'\s*(?:or|and)\s+'?\w*'?\s*=\s*'?\w*|<\s*/?\s*(?:script|iframe|img|svg|"
    r"object)\b|javascript:|\$\{|\{\{|\.\./|\bsleep\s*\(\d")
"""Database statements, markup and template or path tricks: text typed to attack a system, never said by a caller."""


def looks_like_code(text: str) -> bool:
    """The turn is code (SQL, markup, template syntax) rather than words: it gets no knowledge answer."""
    return bool(_CODE.search(text.lower()))


def guess_language(text: str) -> str | None:
    """ISO 639-1 guess for a turn, or None when it is too short or unclear to say."""
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < 2:
        return None
    script = _dominant_script(letters)
    if script:
        return script
    words = re.findall(r"[a-zà-öø-ÿ'-]+", _fold_case(text))
    if len(words) < 3:
        return None
    counts = {lang: sum(w in vocab for w in words) for lang, vocab in _FUNCTION_SETS.items()}
    best = max(counts, key=counts.get)
    ranked = sorted(counts.values(), reverse=True)
    if ranked[0] < 2 or ranked[0] < 2 * ranked[1] or ranked[0] < 0.3 * len(words):
        return None
    return best


def _fold_case(text: str) -> str:
    """Lower case without accents ("Fur" and "für" meet), keeping letters only."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _dominant_script(letters: list[str]) -> str | None:
    counts: dict[str, int] = {}
    for ch in letters:
        name = unicodedata.name(ch, "")
        for marker, lang in _SCRIPTS:
            if name.startswith(marker) or (marker == "CJK" and "CJK" in name):
                counts[lang] = counts.get(lang, 0) + 1
                break
    if not counts:
        return None
    lang, n = max(counts.items(), key=lambda kv: kv[1])
    if "ja" in counts and lang == "zh":
        lang = "ja"
    return lang if n >= 0.5 * len(letters) else None


def forbidden_topic(text: str, topics: tuple[str, ...]) -> str | None:
    """The configured forbidden topic this turn touches, if any (all of the topic's words, stemmed, present)."""
    if not topics:
        return None
    words = set(tx.content_tokens(text))
    words |= {tx.SYNONYMS.get(w, w) for w in words}
    for topic in topics:
        needed = tx.content_tokens(topic)
        if needed and all(w in words or tx.SYNONYMS.get(w, w) in words for w in needed):
            return topic
    return None


def looks_like_injection(text: str) -> bool:
    """Text that tries to instruct the assistant or smuggle code (flagged for the log; handled as plain words)."""
    return bool(_INJECTION.search(text.lower()))
