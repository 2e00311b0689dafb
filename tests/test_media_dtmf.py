"""RFC 4733 telephone-events: the packets of a digit, and detection that reports each key press once."""
from __future__ import annotations

import pytest

from voice.media.dtmf import DtmfDetector, TelephoneEvent, encode_digit, event_code, parse_event


def test_a_digit_is_a_growing_event_with_three_end_packets():
    packets = encode_digit("7", duration_ms=100, volume=10)
    events = [parse_event(p) for p, _ in packets]
    assert [m for _, m in packets] == [True] + [False] * 6
    assert [e.end for e in events] == [False] * 4 + [True] * 3
    assert [e.duration for e in events] == [160, 320, 480, 640, 800, 800, 800]
    assert {e.event for e in events} == {7} and {e.volume for e in events} == {10}


@pytest.mark.parametrize("digit,code", [("0", 0), ("9", 9), ("*", 10), ("#", 11), ("A", 12), ("d", 15), ("!", 16)])
def test_event_codes(digit, code):
    assert event_code(digit) == code
    assert TelephoneEvent(code, False, 0, 0).digit == ("!" if digit == "!" else digit.upper())


@pytest.mark.parametrize("bad", ["", "12", "x", " ", 5])
def test_bad_digits_are_refused(bad):
    with pytest.raises(ValueError, match="DTMF digit"):
        event_code(bad)


def test_detector_reports_each_press_once():
    detector = DtmfDetector()
    digits = []
    for ts, digit in ((1000, "1"), (2000, "1"), (3000, "#")):
        for payload, _ in encode_digit(digit):
            digits.append(detector.feed(payload, ts))
    assert [d for d in digits if d] == ["1", "1", "#"]


def test_detector_survives_a_lost_first_packet_and_repeated_ends():
    detector = DtmfDetector()
    packets = encode_digit("5")[1:]  # the marker packet was lost
    assert [detector.feed(p, 160) for p, _ in packets].count("5") == 1


def test_short_payload_is_an_error_and_unknown_events_are_ignored():
    detector = DtmfDetector()
    with pytest.raises(ValueError):
        detector.feed(b"\x01\x02", 0)
    assert detector.feed(TelephoneEvent(40, False, 0, 160).build(), 0) is None


def test_one_packet_digit_still_has_marker_and_end():
    packets = encode_digit("3", duration_ms=20, end_repeats=3)
    assert packets[0][1] is True and all(parse_event(p).end for p, _ in packets)
