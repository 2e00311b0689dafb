"""Normalization, spoken numbers/times/prices, and the spoken date/time parser of the dialog engine."""
from __future__ import annotations

import datetime as dt

import pytest

from voice.dialog import rules
from voice.dialog import text as tx
from voice.dialog.dates import parse_when
from voice.dialog.speech_text import number_to_words, ordinal_words, shorten, speakable

WED = dt.date(2025, 11, 26)  # a Wednesday


@pytest.mark.parametrize("text, expected", [
    ("What's the cost of a check-up?", ["cost", "checkup"]),
    ("I can't make it to the appointment", ["not", "appointment"]),
    ("twenty five dollars", ["25", "dollar"]),
    ("Are you open on weekends?", ["open", "weekend"]),
    ("my aligners broke", ["aligner", "break"]),
    ("I don't have dental insurance", ["without", "dental", "insuranc"]),
    ("we got no parking", ["without", "park"]),
    ("wears the office", ["location", "offic"]),
])
def test_content_tokens(text, expected):
    assert tx.content_tokens(text) == expected


@pytest.mark.parametrize("text, code", [
    ("'; DROP TABLE appointments; --", True), ("SELECT * FROM users", True), ("select name, phone from x", True),
    ("' OR '1'='1", True), ("<script>alert(1)</script>", True), ("{{7*7}}", True), ("../../etc/passwd", True),
    ("select a time from your schedule", False), ("can I drop off my forms", False),
    ("I want to delete my appointment from monday", False), ("what time do you close; I need to know", False),
])
def test_code_is_told_apart_from_words(text, code):
    assert rules.looks_like_code(text) is code


def test_stemmer_folds_common_forms():
    for group in (("cancel", "cancelled", "cancelling"), ("filling", "fillings"), ("close", "closes", "closing"),
                  ("policy", "policies"), ("book", "booked", "booking")):
        assert len({tx.stem(w) for w in group}) == 1, group


def test_clean_input_bounds_and_strips_control_characters():
    text, cut = tx.clean_input("a\x00b\u200bc " + "x" * 20000)
    assert cut and len(text) <= tx.MAX_INPUT_CHARS and "\x00" not in text
    assert tx.clean_input(None) == ("", False)


@pytest.mark.parametrize("n, words", [(0, "zero"), (21, "twenty-one"), (120, "one hundred and twenty"),
                                      (3800, "three thousand eight hundred"), (1_000_000, "one million")])
def test_number_to_words(n, words):
    assert number_to_words(n) == words


def test_ordinals():
    assert [ordinal_words(n) for n in (1, 2, 3, 12, 21, 30)] == [
        "first", "second", "third", "twelfth", "twenty-first", "thirtieth"]


@pytest.mark.parametrize("written, spoken", [
    ("9:30", "nine thirty a.m."),
    ("We open at 9:30am.", "We open at nine thirty a.m."),
    ("$120", "a hundred and twenty dollars"),
    ("A crown is $1,100.", "A crown is one thousand one hundred dollars."),
    ("Only $25 a month", "Only twenty-five dollars a month"),
    ("a $40 fee", "a forty dollar fee"),
    ("$12.50", "twelve dollars and fifty cents"),
    ("8:00-18:00", "eight a.m. to six p.m."),
    ("Mon-Fri 9-5", "Monday to Friday nine to five"),
    ("12:00", "noon"),
    ("Call 555-0199", "Call five five five, oh one nine nine"),
    ("15% off", "fifteen percent off"),
    ("the 3rd", "the third"),
    ("Dr. Lopez", "Doctor Lopez"),
    ("mail hello@clinic.example", "mail hello at clinic dot example"),
])
def test_speakable(written, spoken):
    assert speakable(written, 3, 100) == spoken


def test_shorten_keeps_first_sentences_within_budget():
    text = "One two three. Four five six seven. Eight nine ten eleven twelve."
    assert shorten(text, 2, 5) == "One two three."
    assert shorten(text, 2, 10) == "One two three. Four five six seven."
    long = "word " * 80 + "end."
    assert len(shorten(long, 2, 35).split()) <= 35


@pytest.mark.parametrize("said, day, time, part", [
    ("next Saturday at eleven", dt.date(2025, 11, 29), dt.time(11), None),
    ("tomorrow afternoon", dt.date(2025, 11, 27), None, "afternoon"),
    ("the 3rd of December at half past two", dt.date(2025, 12, 3), dt.time(14, 30), None),
    ("the third of december", dt.date(2025, 12, 3), None, None),
    ("Monday morning", dt.date(2025, 12, 1), None, "morning"),
    ("December 3rd at 2:30 pm", dt.date(2025, 12, 3), dt.time(14, 30), None),
    ("12/3 at 10am", dt.date(2025, 12, 3), dt.time(10), None),
    ("in two weeks", dt.date(2025, 12, 10), None, None),
    ("a quarter to four on thursday", dt.date(2025, 11, 27), dt.time(15, 45), None),
    ("Tuesday next week at ten", dt.date(2025, 12, 2), dt.time(10), None),
    ("this Wednesday at noon", WED, dt.time(12), None),
    ("Wednesday", dt.date(2025, 12, 3), None, None),
    ("tomorrow at eight in the evening", dt.date(2025, 11, 27), dt.time(20), None),
    ("eleven thirty on friday", dt.date(2025, 11, 28), dt.time(11, 30), None),
    ("the twenty first of january", dt.date(2026, 1, 21), None, None),
    ("on the fifteenth", dt.date(2025, 12, 15), None, None),
    ("2025-12-24 14:00", dt.date(2025, 12, 24), dt.time(14), None),
])
def test_parse_when(said, day, time, part):
    when = parse_when(said, WED)
    assert (when.day, when.time, when.part) == (day, time, part)


def test_parse_when_ignores_unrelated_numbers_and_reads_bare_hours_only_when_asked():
    assert parse_when("I am 35 years old", WED).empty
    assert parse_when("I want to book a cleaning", WED).empty
    assert parse_when("eleven", WED).time is None
    assert parse_when("eleven", WED, expect_time=True).time == dt.time(11)
    assert parse_when("um two please", WED, expect_time=True).time == dt.time(14)
    assert parse_when("February 30th", WED).day is None
