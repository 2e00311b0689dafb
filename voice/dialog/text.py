"""Text normalization shared by retrieval and intents: contractions, numbers, stemming, stop words, synonyms.

Callers' words arrive from a speech recognizer (lower case, numbers in words, no punctuation) or from a keyboard
(anything). Both are folded to the same token stream so "What's the cost?" and "what is the price" meet.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_INPUT_CHARS = 1000
"""Longer turns are cut: nobody speaks 1000 characters in one breath, and it bounds the work per turn."""

_CONTRACTIONS = {
    "won't": "will not", "can't": "can not", "cannot": "can not", "shan't": "shall not", "ain't": "is not",
    "let's": "let us", "y'all": "you all", "gonna": "going to", "wanna": "want to", "gotta": "got to",
}
_SUFFIXES = (("n't", " not"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'d", " would"),
             ("'m", " am"), ("'s", " is"))
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
         "seventeen eighteen nineteen").split()
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_WORD_NUMBERS = {w: i for i, w in enumerate(UNITS)} | {w: 10 * i for i, w in enumerate(TENS) if w}

STOP_WORDS = frozenset("""
a an the and or but if of at by for with about to from in on into onto up down out over under again then once
here there this that these those i me my myself we our ours you your yours he him his she her it its they them
their what which who whom is am are was were be been being have has had having do does did doing would should
could can will shall may might must just so too very also please um uh er hmm oh okay ok yeah yes hi hello hey
guys like really actually any some all one get got know tell want wondering wonder let us go going thing things
well still ever even there's anything something anyone someone anybody somebody right now need how
think kind sort way best every few last whole come coming make take use see help sure maybe exactly able lot
bit little quick quickly question wanted looking calling call say said mean
""".split())
"""Function words dropped before ranking; question words that carry meaning (where, when, how much) are kept."""

# Phrase-level rewrites applied before tokenizing: multi-word expressions a caller uses for one idea.
_PHRASES = (
    (r"\bhow much\b", "price"), (r"\bwhat time\b", "hours"), (r"\b(?:x|ex)[\s-]?rays?\b", "xray"),
    (r"\bwalk[\s-]?ins?\b", "walkin"), (r"\bweek[\s-]?ends?\b", "weekend"), (r"\bwheel[\s-]?chairs?\b", "wheelchair"),
    (r"\be[\s-]?mail\b", "email"), (r"\bon[\s-]?line\b", "online"), (r"\bcheck[\s-]?ups?\b", "checkup"),
    (r"\bpay(?:ment)? plans?\b", "financing"), (r"\bsome ?one\b", "someone"), (r"\bpaper ?work\b", "paperwork"),
    (r"\bhandy ?cap\w*", "handicap"), (r"\bday ?off\b", "holiday"), (r"\bnew ?years?(?: eve| day)?\b", "newyear"),
    # Sound-alikes a recognizer writes for "where" at the start of a question ("wears the office").
    (r"\b(?:wear|wears|ware|wares)(?= (?:is|are|the|your|you|do|can)\b)", "where"),
    (r"\bwhere(?= (?:\w+ ){0,2}(?:you|your|office|clinic|practice|located)\b)", "location"),
    # Not having something is its own topic ("I don't have insurance" is not "do you take my insurance").
    (r"\b(?:do|does|did) not have (?:any |a |an )?|\b(?:have|has|with|got) no\b", "without "),
    (r"\bun(?=insured\b)", "without "),
    (r"\b(?:get|go|come|drive) (?:to you|there|to the (?:office|clinic|practice))\b", "directions"),
)
_PHRASE_RES = tuple((re.compile(p), r) for p, r in _PHRASES)

def clean_input(text: str | None) -> tuple[str, bool]:
    """Strip control characters and cut overlong input; returns (text, truncated)."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > MAX_INPUT_CHARS:
        return text[:MAX_INPUT_CHARS].rsplit(" ", 1)[0], True
    return text, False


def expand_contractions(text: str) -> str:
    """Lower-case and expand English contractions ("what's" -> "what is")."""
    text = text.lower().translate(_APOSTROPHES)
    for short, full in _CONTRACTIONS.items():
        text = text.replace(short, full)
    return re.sub(r"\b([a-z]+)('[a-z]+)\b", _expand_one, text)


def _expand_one(match: re.Match) -> str:
    word, tail = match.group(1), match.group(2)
    if tail == "'t" and word.endswith("n"):
        return word[:-1] + " not"
    for suffix, full in _SUFFIXES:
        if (word + tail).endswith(suffix):
            return (word + tail)[: -len(suffix)] + full
    return word


def words_to_digits(tokens: list[str]) -> list[str]:
    """Turn spoken numbers into digits ("twenty five" -> "25") so spoken and typed numbers match."""
    out: list[str] = []
    for tok in tokens:
        value = _WORD_NUMBERS.get(tok)
        if value is None:
            out.append(tok)
        elif out and out[-1].isdigit() and int(out[-1]) % 10 == 0 and 20 <= int(out[-1]) <= 90 and value < 10:
            out[-1] = str(int(out[-1]) + value)
        else:
            out.append(str(value))
    return out


_PLURALS = (("ies", "i"), ("es", "e"), ("s", ""))
_ENDINGS = (("ingly", ""), ("edly", ""), ("ing", ""), ("ied", "i"), ("ed", ""), ("ly", ""))


@lru_cache(maxsize=20000)
def stem(word: str) -> str:
    """A light English stemmer: enough to fold plurals and -ing/-ed forms of everyday words."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if not word.endswith(("ss", "us", "is")):
        word = _strip(word, _PLURALS)
    stripped = _strip(word, _ENDINGS)
    if stripped != word and stripped[-1] == stripped[-2] and (len(stripped) > 4 or stripped[-1] not in "lsz"):
        stripped = stripped[:-1]
    word = stripped
    if word.endswith("y") and len(word) > 3:
        word = word[:-1] + "i"
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def _strip(word: str, suffixes: tuple[tuple[str, str], ...]) -> str:
    for suffix, keep in suffixes:
        if word.endswith(suffix) and len(word) - len(suffix) >= (5 if suffix == "ly" else 3):
            return word[: -len(suffix)] + keep
    return word


# Words a small business's callers use interchangeably; each maps to its group's first word (both stemmed).
_SYNONYM_GROUPS = (
    "price cost charge fee expensive cheap rate afford quote",
    "hours open close opening closing",
    "weekday weekdays monday tuesday wednesday thursday friday",
    "weekend weekends saturday sunday",
    "location address directions find street located",
    "parking park car garage",
    "appointment book booking visit reservation reserve slot schedule",
    "insurance insurer coverage covered network ppo",
    "cancel cancellation reschedule",
    "emergency urgent pain toothache hurts swollen swelling chipped knocked bleeding",
    "children child kid kids son daughter pediatric family toddler",
    "dentist doctor dr hygienist",
    "holiday holidays christmas thanksgiving easter newyear july independence labor memorial",
    "crown crowns cap caps",
    "bus train station subway transit transport metro",
    "whitening whiten bleaching bleach",
    "aligners aligner invisalign invisible braces trays straighten",
    "email message contact",
    "financing installments monthly carecredit finance",
    "bill invoice overcharged statement billing",
    "extraction extract pull remove",
    "anxious anxiety nervous scared afraid fear terrified phobia sedation",
    "wheelchair accessible access handicap ramp stairs elevator lift disabled walker",
    "soon earliest asap",
)
SYNONYMS: dict[str, str] = {stem(w): stem(g.split()[0]) for g in _SYNONYM_GROUPS for w in g.split()}
SYNONYM_WORDS: dict[str, str] = {w: stem(g.split()[0]) for g in _SYNONYM_GROUPS for w in g.split()}
"""Surface word -> canonical stem, for vocabulary building."""


_IRREGULAR = {
    "broke": "break", "broken": "break", "lost": "lose", "paid": "pay", "bought": "buy", "sent": "send",
    "spoke": "speak", "spoken": "speak", "took": "take", "taken": "take", "went": "go", "gone": "go",
    "came": "come", "gave": "give", "given": "give", "got": "get", "gotten": "get", "made": "make",
    "told": "tell", "left": "leave", "felt": "feel", "hurt": "hurt", "chose": "choose", "ate": "eat",
    "teeth": "tooth", "children": "child", "people": "person", "women": "woman", "men": "man",
}
"""Irregular forms the suffix stemmer cannot fold."""


def raw_tokens(text: str) -> list[str]:
    """Lower-cased word tokens after contraction expansion and phrase rewrites (no stemming, stop words kept)."""
    text = expand_contractions(text)
    for pattern, repl in _PHRASE_RES:
        text = pattern.sub(repl, text)
    return words_to_digits([_IRREGULAR.get(t, t) for t in _TOKEN.findall(text)])


def content_tokens(text: str) -> list[str]:
    """Stemmed tokens without stop words: the unit the ranker works on."""
    return [stem(t) for t in raw_tokens(text) if t not in STOP_WORDS]


def expand_synonyms(tokens: list[str]) -> list[str]:
    """Add the canonical synonym of each token (kept beside the original, so exact words still count more)."""
    out = list(tokens)
    for tok in tokens:
        canon = SYNONYMS.get(tok)
        if canon and canon != tok and canon not in tokens:
            out.append(canon)
    return out
