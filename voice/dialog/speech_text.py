"""Written answers made fit to be spoken: shortened, with numbers, times, prices and abbreviations in words.

"We're open 8:00-18:00, a cleaning is $120" becomes "We're open eight a.m. to six p.m., a cleaning is a hundred and
twenty dollars", which a text-to-speech voice reads naturally.
"""
from __future__ import annotations

import re

from voice.dialog.text import TENS, UNITS

_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand"))
_ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                  "nine": "ninth", "twelve": "twelfth"}
_CURRENCY = {"$": ("dollar", "dollars", "cent", "cents"), "€": ("euro", "euros", "cent", "cents"),
             "£": ("pound", "pounds", "penny", "pence")}
_ABBREVIATIONS = (
    (r"\bDr\.", "Doctor"), (r"\bSt\.(?= [A-Z0-9])", "Saint"), (r"(?<=[a-z] )St\.", "Street"), (r"\bAve\.", "Avenue"),
    (r"\bBlvd\.", "Boulevard"), (r"\bMr\.", "Mister"), (r"\bMrs\.", "Missus"), (r"\bMs\.", "Miz"),
    (r"\be\.g\.", "for example"), (r"\bi\.e\.", "that is"), (r"\betc\.", "and so on"), (r"\bvs\.?", "versus"),
    (r"\bapprox\.", "about"), (r"\bmin\.", "minutes"), (r"\bhrs?\.", "hours"), (r"\bno\.(?= ?\d)", "number"),
    (r"\bMon\b", "Monday"), (r"\bTue\b", "Tuesday"), (r"\bWed\b", "Wednesday"), (r"\bThu\b", "Thursday"),
    (r"\bFri\b", "Friday"), (r"\bSat\b", "Saturday"), (r"\bSun\b", "Sunday"), (r" & ", " and "),
)
_ABBREVIATION_RES = tuple((re.compile(p), r) for p, r in _ABBREVIATIONS)
_TIME = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s?m\b\.?|\b(\d{1,2}):(\d{2})\b", re.IGNORECASE)
_PRICE = re.compile(r"([$€£])\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{2}))?")
_PHONE = re.compile(r"\b\d{3}(?:[-. ]\d{3})?[-. ]\d{4}\b")
_RANGE = re.compile(r"(?:(?<=\d)|(?<=[ap]m))\s?[-\u2013]\s?(?=[$€£]?\d)|(?<=day)\s?[-\u2013]\s?(?=[A-Z])")
_URL = re.compile(r"\b(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|example|co|io|us|ca|uk|info|biz)\b")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_NUMBER = re.compile(r"\b\d{1,3}(?:,\d{3})+\b|\b\d+(?:\.\d+)?\b")
_EMAIL = re.compile(r"\b([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def number_to_words(n: int) -> str:
    """0 -> "zero", 120 -> "one hundred and twenty", 3800 -> "three thousand eight hundred"."""
    if n < 0:
        return "minus " + number_to_words(-n)
    if n < 20:
        return UNITS[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else "-" + UNITS[n % 10])
    if n < 1000:
        rest = n % 100
        return UNITS[n // 100] + " hundred" + ("" if rest == 0 else " and " + number_to_words(rest))
    for value, name in _SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            tail = "" if rest == 0 else (" and " if rest < 100 else " ") + number_to_words(rest)
            return number_to_words(head) + " " + name + tail
    return str(n)


def ordinal_words(n: int) -> str:
    """3 -> "third", 21 -> "twenty-first"."""
    words = number_to_words(n)
    head, _, last = words.rpartition(" ")
    prefix, dash, unit = last.rpartition("-")
    unit = _ORDINAL_WORDS.get(unit) or (unit[:-1] + "ieth" if unit.endswith("y") else unit + "th")
    return (head + " " if head else "") + prefix + dash + unit


def time_words(hour: int, minute: int = 0, meridiem: str | None = None) -> str:
    """(9, 30) -> "nine thirty a.m."; (18, 0) -> "six p.m."; (12, 0) -> "noon". Without a.m./p.m. the hour is
    read as business hours: 7-11 in the morning, 12-6 in the afternoon."""
    if meridiem is None:
        meridiem = "p" if hour >= 12 or hour < 7 else "a"
    if hour == 12 and minute == 0 and meridiem == "p":
        return "noon"
    if hour in (0, 24) and minute == 0:
        return "midnight"
    h12 = hour % 12 or 12
    if minute == 0:
        mins = ""
    elif minute < 10:
        mins = " oh " + UNITS[minute]
    else:
        mins = " " + number_to_words(minute)
    return f"{number_to_words(h12)}{mins} {'a.m.' if meridiem == 'a' else 'p.m.'}"


def price_words(symbol: str, whole: str, cents: str | None = None) -> str:
    """("$", "120") -> "a hundred and twenty dollars"; ("$", "1,250", "50") -> "... dollars and fifty cents"."""
    one, many, cent, cents_name = _CURRENCY.get(symbol, ("", "", "", ""))
    amount = int(whole.replace(",", ""))
    words = number_to_words(amount)
    if 100 <= amount < 200:
        words = "a" + words[3:]
    text = f"{words} {one if amount == 1 else many}"
    if cents and int(cents):
        text += f" and {number_to_words(int(cents))} {cent if int(cents) == 1 else cents_name}"
    return text


def digits_words(digits: str) -> str:
    """A phone number read digit by digit, in groups: "555-0199" -> "five five five, oh one nine nine"."""
    groups = re.split(r"[-. ]", digits)
    return ", ".join(" ".join("oh" if d == "0" else UNITS[int(d)] for d in g) for g in groups if g)


def expand_abbreviations(text: str) -> str:
    """Dr. -> Doctor, e.g. -> for example, Mon -> Monday, & -> and."""
    for pattern, repl in _ABBREVIATION_RES:
        text = pattern.sub(repl, text)
    return text


def _time_sub(match: re.Match) -> str:
    if match.group(3):
        hour, minute, mer = int(match.group(1)), int(match.group(2) or 0), match.group(3).lower()
        return time_words(hour + (12 if mer == "p" and hour < 12 else 0) - (12 if mer == "a" and hour == 12 else 0),
                          minute, mer)
    hour, minute = int(match.group(4)), int(match.group(5))
    if hour > 24 or minute > 59:
        return match.group(0)
    return time_words(hour, minute, "p" if hour >= 12 else None)


def _number_sub(match: re.Match) -> str:
    raw = match.group(0).replace(",", "")
    if "." in raw:
        whole, frac = raw.split(".", 1)
        return number_to_words(int(whole)) + " point " + " ".join(UNITS[int(d)] for d in frac)
    if len(raw) > 12:
        return " ".join(UNITS[int(d)] for d in raw)
    return number_to_words(int(raw))


def speak_numbers(text: str) -> str:
    """Times, prices, phone numbers, percentages, ordinals, e-mail addresses and plain numbers in words."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)} at {_dots(m.group(2))}", text)
    text = _URL.sub(lambda m: _dots(m.group(0)), text)
    text = _PHONE.sub(lambda m: digits_words(m.group(0)), text)
    text = _RANGE.sub(" to ", text)
    text = _PRICE.sub(_price_sub, text)
    text = _TIME.sub(_time_sub, text)
    text = re.sub(r"(\d+(?:\.\d+)?)\s?%", r"\1 percent", text)
    text = _ORDINAL.sub(lambda m: ordinal_words(int(m.group(1))), text)
    text = _NUMBER.sub(_number_sub, text)
    text = re.sub(r"\.(?:\s*\.)+", ".", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def _dots(host: str) -> str:
    return host.replace(".", " dot ")


def _price_sub(match: re.Match) -> str:
    before = match.string[max(0, match.start() - 6):match.start()].lower()
    words = price_words(match.group(1), match.group(2), match.group(3))
    if re.search(r"\b(?:a|an|the|our|your|this)\s$", before) and not match.group(3):
        # "a $40 fee" reads "a forty dollar fee": the amount is an adjective there.
        return words.removeprefix("a ").rsplit(" ", 1)[0] + " " + _CURRENCY[match.group(1)][0]
    return words


def sentences(text: str) -> list[str]:
    """Split text into sentences (abbreviations should be expanded first)."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def shorten(text: str, max_sentences: int = 2, max_words: int = 35) -> str:
    """The first sentences that fit in ``max_words`` (always at least one, cut at a clause if it is too long)."""
    parts = sentences(text)
    if not parts:
        return ""
    kept, count = [], 0
    for sentence in parts[:max_sentences]:
        words = len(sentence.split())
        if kept and count + words > max_words:
            break
        kept.append(sentence)
        count += words
    if count > max_words * 1.5:
        return _cut_clause(kept[0], max_words)
    return " ".join(kept)


def _cut_clause(sentence: str, max_words: int) -> str:
    words = sentence.split()
    head = " ".join(words[:max_words])
    cut = max(head.rfind(","), head.rfind(";"))
    head = head[:cut] if cut > len(head) // 3 else head
    return head.rstrip(",;: ") + "."


def speakable(text: str, max_sentences: int = 2, max_words: int = 35) -> str:
    """The whole pipeline: abbreviations, shortening, then numbers in words."""
    return speak_numbers(shorten(expand_abbreviations(text), max_sentences, max_words))
