"""RFC 4733 (formerly RFC 2833) telephone-events: DTMF digits to event payloads and back."""
from __future__ import annotations

import collections
import logging
import struct
from dataclasses import dataclass

logger = logging.getLogger(__name__)

EVENTS = "0123456789*#ABCD"
FLASH = 16
_PAYLOAD = struct.Struct("!BBH")


@dataclass(frozen=True)
class TelephoneEvent:
    """One telephone-event payload: event code, end bit, volume (0..63, in -dBm0) and duration in samples."""

    event: int
    end: bool
    volume: int
    duration: int

    @property
    def digit(self) -> str:
        """The DTMF character ("0"-"9", "*", "#", "A"-"D", "!" for flash, "?" for other events)."""
        if self.event < len(EVENTS):
            return EVENTS[self.event]
        return "!" if self.event == FLASH else "?"

    def build(self) -> bytes:
        """The 4-byte payload."""
        return _PAYLOAD.pack(self.event, (0x80 if self.end else 0) | (self.volume & 0x3F), min(self.duration, 0xFFFF))


def event_code(digit: str) -> int:
    """The event code of a DTMF digit; raises ValueError for anything else."""
    if not isinstance(digit, str) or len(digit) != 1:
        raise ValueError(f"a DTMF digit is one character of 0-9 * # A-D, not {digit!r}")
    if digit == "!":
        return FLASH
    index = EVENTS.find(digit.upper())
    if index < 0:
        raise ValueError(f"a DTMF digit is one character of 0-9 * # A-D, not {digit!r}")
    return index


def parse_event(payload: bytes) -> TelephoneEvent:
    """Parse a telephone-event payload (only the first event of a redundant payload is read)."""
    if len(payload) < 4:
        raise ValueError(f"telephone-event payload is {len(payload)} bytes, expected 4")
    event, flags, duration = _PAYLOAD.unpack_from(payload)
    return TelephoneEvent(event, bool(flags & 0x80), flags & 0x3F, duration)


def encode_digit(digit: str, *, duration_ms: int = 100, packet_ms: int = 20, volume: int = 10,
                 end_repeats: int = 3, rate: int = 8000) -> list[tuple[bytes, bool]]:
    """The (payload, marker) packets of one digit, one per ``packet_ms``; all share the event's RTP timestamp.

    The first packet carries the marker bit, durations grow by one packet each time, and the final packet (end
    bit set) is sent ``end_repeats`` times, as RFC 4733 2.5.1.4 asks, so that one lost packet does not lose it.
    """
    code = event_code(digit)
    step = rate * packet_ms // 1000
    count = max(1, -(-duration_ms // packet_ms))
    packets = [(TelephoneEvent(code, False, volume, step * (i + 1)).build(), i == 0) for i in range(count - 1)]
    final = TelephoneEvent(code, True, volume, step * count).build()
    packets += [(final, count == 1 and i == 0) for i in range(max(1, end_repeats))]
    return packets


class DtmfDetector:
    """Turns received telephone-event packets into digits, each reported once.

    A key press is identified by its RTP timestamp (all of its packets share it), so the repeated updates and
    the three end packets of one press give one digit, and a lost first packet (marker) does not lose the digit.
    """

    def __init__(self, memory: int = 32):
        self._seen: collections.deque[tuple[int, int]] = collections.deque(maxlen=memory)

    def feed(self, payload: bytes, timestamp: int) -> str | None:
        """The digit if this packet starts a new key press, else None; raises ValueError on a short payload."""
        event = parse_event(payload)
        key = (timestamp, event.event)
        if key in self._seen:
            return None
        self._seen.append(key)
        if event.event > FLASH:
            logger.debug("ignoring telephone-event %d", event.event)
            return None
        return event.digit
