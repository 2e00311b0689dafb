"""RTP packets (RFC 3550): parse and build, plus 16/32-bit sequence and timestamp arithmetic with wraparound."""
from __future__ import annotations

import logging
import random
import struct
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

RTP_VERSION = 2
HEADER_SIZE = 12
SEQ_MOD = 1 << 16
TS_MOD = 1 << 32
_HEADER = struct.Struct("!BBHII")


class RtpParseError(ValueError):
    """A datagram that is not a well-formed RTP version 2 packet."""


@dataclass(frozen=True)
class RtpPacket:
    """One RTP packet; ``payload`` excludes padding, CSRCs and the header extension."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension: tuple[int, bytes] | None = None  # (profile-defined 16 bits, data: a multiple of 4 bytes)
    padding: int = 0  # padding bytes that were (or are to be) appended

    def build(self) -> bytes:
        """The packet on the wire."""
        _check_fields(self)
        first = (RTP_VERSION << 6) | (0x20 if self.padding else 0) | (0x10 if self.extension else 0) | len(self.csrc)
        second = (0x80 if self.marker else 0) | self.payload_type
        parts = [_HEADER.pack(first, second, self.sequence, self.timestamp, self.ssrc)]
        parts.extend(struct.pack("!I", c) for c in self.csrc)
        if self.extension is not None:
            profile, data = self.extension
            parts.append(struct.pack("!HH", profile, len(data) // 4) + data)
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes([self.padding]))
        return b"".join(parts)


def _check_fields(p: RtpPacket) -> None:
    """Raise ValueError for a field that does not fit its RTP header slot."""
    if not 0 <= p.payload_type < 128:
        raise ValueError(f"payload type {p.payload_type} is not 0..127")
    if not 0 <= p.sequence < SEQ_MOD or not 0 <= p.timestamp < TS_MOD or not 0 <= p.ssrc < TS_MOD:
        raise ValueError("sequence must fit 16 bits, timestamp and SSRC 32 bits")
    if len(p.csrc) > 15 or not 0 <= p.padding < 256:
        raise ValueError("at most 15 CSRCs and 255 padding bytes")
    if p.extension is not None and len(p.extension[1]) % 4:
        raise ValueError("header extension data must be a multiple of 4 bytes")


def parse(data: bytes | bytearray | memoryview) -> RtpPacket:
    """Parse one datagram; raises RtpParseError if it is not RTP v2 (CSRC, extension and padding are handled)."""
    data = bytes(data)
    if len(data) < HEADER_SIZE:
        raise RtpParseError(f"{len(data)} bytes is shorter than an RTP header")
    first, second, seq, ts, ssrc = _HEADER.unpack_from(data)
    if first >> 6 != RTP_VERSION:
        raise RtpParseError(f"RTP version {first >> 6}, expected 2")
    offset = HEADER_SIZE + 4 * (first & 0x0F)
    csrc = struct.unpack_from(f"!{first & 0x0F}I", data, HEADER_SIZE) if len(data) >= offset else None
    if csrc is None:
        raise RtpParseError("packet truncated inside the CSRC list")
    extension = None
    if first & 0x10:
        extension, offset = _parse_extension(data, offset)
    end, padding = _payload_end(data, offset, bool(first & 0x20))
    return RtpPacket(second & 0x7F, seq, ts, ssrc, data[offset:end], bool(second & 0x80), tuple(csrc),
                     extension, padding)


def _parse_extension(data: bytes, offset: int) -> tuple[tuple[int, bytes], int]:
    """The (profile, data) header extension at offset, and the offset after it."""
    if len(data) < offset + 4:
        raise RtpParseError("packet truncated inside the header extension")
    profile, words = struct.unpack_from("!HH", data, offset)
    end = offset + 4 + 4 * words
    if len(data) < end:
        raise RtpParseError("header extension longer than the packet")
    return (profile, data[offset + 4:end]), end


def _payload_end(data: bytes, offset: int, padded: bool) -> tuple[int, int]:
    """Where the payload ends, and the padding length (the last byte counts the padding, itself included)."""
    if not padded:
        return len(data), 0
    count = data[-1] if len(data) > offset else 0
    if count == 0 or len(data) - count < offset:
        raise RtpParseError(f"invalid padding length {count}")
    return len(data) - count, count


def seq_delta(a: int, b: int) -> int:
    """Signed distance a - b between two 16-bit sequence numbers, in -32768..32767 (wraparound aware)."""
    return ((a - b + 0x8000) % SEQ_MOD) - 0x8000


def ts_delta(a: int, b: int) -> int:
    """Signed distance a - b between two 32-bit RTP timestamps (wraparound aware)."""
    return ((a - b + 0x80000000) % TS_MOD) - 0x80000000


class Unwrapper:
    """Extends wrapping counters (16-bit sequence numbers or 32-bit timestamps) into monotonic integers."""

    def __init__(self, bits: int):
        self._mod = 1 << bits
        self._half = self._mod >> 1
        self._last: int | None = None

    def reset(self) -> None:
        """Forget the reference, so the next value starts a new run."""
        self._last = None

    def extend(self, value: int) -> int:
        """The extended value closest to the last one extended (the first value is taken as is, plus one cycle)."""
        if self._last is None:
            # One cycle of headroom keeps early reordered packets from going negative.
            self._last = value + self._mod
            return self._last
        delta = ((value - self._last + self._half) % self._mod) - self._half
        extended = self._last + delta
        if delta > 0:
            self._last = extended
        return extended


@dataclass
class RtpSender:
    """Stamps outgoing packets of one stream: random initial sequence, timestamp and SSRC (RFC 3550 5.1)."""

    payload_type: int
    ssrc: int = field(default_factory=lambda: random.getrandbits(32))
    sequence: int = field(default_factory=lambda: random.getrandbits(16))
    timestamp: int = field(default_factory=lambda: random.getrandbits(32))

    def packet(self, payload: bytes, *, marker: bool = False, payload_type: int | None = None,
               timestamp: int | None = None) -> bytes:
        """Build the next packet (sequence number advances by one; the timestamp is not advanced here)."""
        pt = self.payload_type if payload_type is None else payload_type
        ts = self.timestamp if timestamp is None else timestamp % TS_MOD
        data = RtpPacket(pt, self.sequence, ts, self.ssrc, payload, marker).build()
        self.sequence = (self.sequence + 1) % SEQ_MOD
        return data

    def advance(self, samples: int) -> None:
        """Move the media clock on by a number of samples."""
        self.timestamp = (self.timestamp + samples) % TS_MOD
