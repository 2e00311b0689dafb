"""RTP packets: build/parse round trips, CSRC/extension/padding, malformed input, wraparound arithmetic."""
from __future__ import annotations

import struct

import pytest

from voice.media import rtp


def test_round_trip_of_a_plain_packet():
    packet = rtp.RtpPacket(0, 4321, 123456, 0xDEADBEEF, b"\xff" * 160, marker=True)
    data = packet.build()
    assert len(data) == 12 + 160 and data[:2] == b"\x80\x80"
    assert rtp.parse(data) == packet


def test_round_trip_with_csrc_extension_and_padding():
    packet = rtp.RtpPacket(8, 65535, 2**32 - 1, 7, b"abc", csrc=(1, 2, 3), extension=(0xBEDE, b"\x10\x20\x30\x40"),
                           padding=5)
    data = packet.build()
    assert data[0] == 0x80 | 0x20 | 0x10 | 3
    assert data[-1] == 5
    assert rtp.parse(data) == packet


def test_parse_of_a_handmade_packet():
    header = struct.pack("!BBHII", 0xB1, 0x65, 7, 99, 5) + struct.pack("!I", 42)  # P, X, CC=1; PT 101
    ext = struct.pack("!HH", 0x1000, 1) + b"wxyz"
    data = header + ext + b"\x01\x02" + b"\x00\x00\x03"
    packet = rtp.parse(data)
    assert (packet.payload_type, packet.sequence, packet.timestamp, packet.ssrc) == (101, 7, 99, 5)
    assert packet.csrc == (42,) and packet.extension == (0x1000, b"wxyz")
    assert packet.payload == b"\x01\x02" and packet.padding == 3 and not packet.marker


@pytest.mark.parametrize("data,message", [
    (b"\x80\x00\x00", "shorter"),
    (b"\x40" + bytes(11), "version 1"),
    (b"\x82" + bytes(15), "CSRC"),
    (b"\x90" + bytes(11) + b"\x00\x00", "extension"),
    (b"\x90" + bytes(11) + b"\x00\x00\x00\x05", "longer than the packet"),
    (b"\xa0" + bytes(11) + b"\x01\x00", "padding"),
    (b"\xa0" + bytes(11) + b"\x01\x09", "padding"),
])
def test_malformed_packets_raise_a_clear_error(data, message):
    with pytest.raises(rtp.RtpParseError, match=message):
        rtp.parse(data)


@pytest.mark.parametrize("field", [{"payload_type": 128}, {"sequence": 65536}, {"timestamp": -1},
                                   {"csrc": tuple(range(16))}, {"extension": (1, b"abc")}])
def test_building_an_impossible_header_is_refused(field):
    base = {"payload_type": 0, "sequence": 0, "timestamp": 0, "ssrc": 0}
    with pytest.raises(ValueError):
        rtp.RtpPacket(**{**base, **field}).build()


def test_wraparound_deltas():
    assert rtp.seq_delta(0, 65535) == 1
    assert rtp.seq_delta(65535, 0) == -1
    assert rtp.seq_delta(100, 50) == 50
    assert rtp.ts_delta(5, 2**32 - 155) == 160
    assert rtp.ts_delta(2**32 - 155, 5) == -160


def test_unwrapper_extends_across_wraps_and_tolerates_reordering():
    u = rtp.Unwrapper(16)
    out = [u.extend(s) for s in (65534, 65535, 1, 0, 2, 65533)]
    base = out[0] - 65534
    assert [o - base for o in out] == [65534, 65535, 65537, 65536, 65538, 65533]
    for _ in range(3):  # several full cycles
        for s in range(0, 65536, 1000):
            last = u.extend(s)
    assert last > out[-1] + 3 * 60000


def test_sender_numbers_packets_and_wraps():
    sender = rtp.RtpSender(0, ssrc=9, sequence=65535, timestamp=2**32 - 160)
    first = rtp.parse(sender.packet(b"x", marker=True))
    sender.advance(160)
    second = rtp.parse(sender.packet(b"y"))
    assert (first.sequence, first.timestamp, first.marker) == (65535, 2**32 - 160, True)
    assert (second.sequence, second.timestamp, second.marker) == (0, 0, False)
    event = rtp.parse(sender.packet(b"abcd", payload_type=101, timestamp=77))
    assert (event.payload_type, event.timestamp, event.sequence) == (101, 77, 1)


def test_senders_start_at_random_points():
    starts = {(s.ssrc, s.sequence, s.timestamp) for s in (rtp.RtpSender(0) for _ in range(5))}
    assert len(starts) == 5
