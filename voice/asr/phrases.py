"""The business's own words, made ready for recognizer adaptation.

Knowledge-base answers, assistant prompts and expected answers arrive as written text ("Open 8:00-18:00, $80");
recognizers need the words as spoken ("open eight a m to six p m eighty dollars"). This module turns phrases into
word sequences, carries a small built-in corpus of how callers phrase things, and re-scores n-best lists towards
the business's vocabulary for engines that cannot take a grammar.
"""
from __future__ import annotations

import hashlib
import logging
import re
from typing import Iterable, Sequence

logger = logging.getLogger(__name__)

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_SPLIT = re.compile(r"(?<=[.!?;:])\s+|\n+")

# How callers of a small business talk, whatever the business: the carrier phrases around the knowledge base's
# own words, and the expected answers (yes/no, days, times, digits, names of things) of every booking dialog.
GENERIC_EN = """\
hello
hi
good morning
good afternoon
yes
yes please
yeah
no
no thanks
no thank you
okay
that's right
that is correct
that's fine
thank you
thank you bye
goodbye
bye
i would like to
i would like to book an appointment
i would like to make an appointment
i'd like to book
i need to
i need an appointment
i want to
i want to cancel my appointment
i want to change my appointment
can i
can i come in
can i book
can i speak to
can i talk to someone
could you tell me
do you
do you have
do you accept
do you take
do you do
are you open
when are you open
what are your hours
what time do you open
what time do you close
how much does it cost
how much is
how much is a
what is the price of
where are you
where are you located
what is your address
is there parking
i have a question about
my name is
my phone number is
my number is
the morning
the afternoon
in the morning
in the afternoon
this week
next week
today
tomorrow
the day after tomorrow
monday
tuesday
wednesday
thursday
friday
saturday
sunday
on monday
on tuesday
on wednesday
on thursday
on friday
on saturday
on sunday
next monday
next tuesday
next wednesday
next thursday
next friday
january february march april may june july august september october november december
at one at two at three at four at five at six at seven at eight at nine at ten at eleven at twelve
one o'clock two o'clock three o'clock
half past
a m
p m
zero one two three four five six seven eight nine ten
eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty
thirty forty fifty sixty seventy eighty ninety hundred thousand
dollars
an operator
a person
a human
speak to a person
transfer me
emergency
it's urgent
"""


def normalize(text: str, language: str = "en") -> list[str]:
    """Lower-case spoken words of one phrase; English numbers, times and prices become words."""
    if language.lower().startswith("en"):
        text = _spoken_english(text)
    return [w.lower() for w in _WORD.findall(text)]


def _spoken_english(text: str) -> str:
    from voice.dialog.speech_text import expand_abbreviations, speak_numbers

    text = speak_numbers(expand_abbreviations(text))
    return re.sub(r"\b([ap])\.\s?m\.", r"\1 m", text, flags=re.IGNORECASE)


def sentences(phrases: Iterable[str], language: str = "en") -> list[list[str]]:
    """Each phrase split at sentence ends and normalized; empty ones dropped."""
    out = []
    for phrase in phrases:
        for part in _SPLIT.split(phrase or ""):
            words = normalize(part, language)
            if words:
                out.append(words)
    return out


def generic_sentences(language: str) -> list[list[str]]:
    """The built-in caller phrases for a language (English only for now)."""
    if not language.lower().startswith("en"):
        return []
    return [line.split() for line in GENERIC_EN.splitlines() if line.strip()]


def phrases_key(phrases: Sequence[str] | None, closed: bool = False) -> str:
    """A stable key of a phrase list, for caching what was built from it."""
    digest = hashlib.sha256(("closed\n" if closed else "open\n").encode())
    for phrase in phrases or ():
        digest.update(phrase.encode("utf-8", "replace") + b"\n")
    return digest.hexdigest()[:16]


def rescore(alternatives: Sequence[tuple[str, float]], vocabulary: set[str], boost: float) -> tuple[str, float]:
    """Pick the n-best alternative whose score plus ``boost`` per in-vocabulary word is highest."""
    if not alternatives:
        return "", 0.0
    def score(item: tuple[str, float]) -> float:
        return item[1] + boost * sum(1 for w in item[0].split() if w in vocabulary)
    return max(alternatives, key=score)
