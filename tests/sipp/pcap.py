"""Write small RTP pcap files for SIPp's ``play_pcap_audio`` (a tone, RFC 2833 digits)."""
from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np

from voice.media import g711

_ETH = b"\x00" * 12 + b"\x08\x00"


def _ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack("!10H", header))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def _frame(rtp: bytes, sport: int = 40000, dport: int = 6000) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(rtp), 0) + rtp
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([127, 0, 0, 1]),
                     bytes([127, 0, 0, 1]))
    ip = ip[:10] + struct.pack("!H", _ip_checksum(ip)) + ip[12:]
    return _ETH + ip + udp


def rtp_packet(pt: int, seq: int, ts: int, payload: bytes, marker: bool = False, ssrc: int = 0x1234ABCD) -> bytes:
    """One RTP packet."""
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload


def write_pcap(path: Path, packets: list[tuple[float, bytes]]) -> Path:
    """A pcap (Ethernet/IPv4/UDP) holding RTP packets at the given send times (seconds)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for t, rtp in packets:
        frame = _frame(rtp)
        sec, usec = int(t), int(round((t - int(t)) * 1e6))
        out.append(struct.pack("<IIII", 1_700_000_000 + sec, usec, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))
    return path


def tone_pcap(path: Path, freq: float = 440.0, seconds: float = 1.0, pt: int = 0) -> Path:
    """``seconds`` of a sine tone in G.711 (PCMU pt 0 or PCMA pt 8), 20 ms per packet."""
    n = int(seconds * 50)
    samples = (8000 * np.sin(2 * math.pi * freq * np.arange(160 * n) / 8000)).astype("<i2")
    packets = []
    for i in range(n):
        payload = g711.encode(samples[i * 160:(i + 1) * 160].tobytes(), pt)
        packets.append((i * 0.02, rtp_packet(pt, 1000 + i, 160 * i, payload, marker=i == 0)))
    return write_pcap(path, packets)


def dtmf_pcap(path: Path, digits: str, pt: int = 101) -> Path:
    """RFC 2833 events for ``digits``: 5 packets of 20 ms each plus 3 end packets, 100 ms apart."""
    packets, seq, t = [], 2000, 0.0
    for index, digit in enumerate(digits):
        event = "0123456789*#ABCD".index(digit)
        ts = 8000 * (index + 1)
        for k in range(1, 9):
            end = k > 5
            payload = struct.pack("!BBH", event, (0x80 if end else 0) | 10, 160 * min(k, 5))
            packets.append((t, rtp_packet(pt, seq, ts, payload, marker=k == 1)))
            seq, t = seq + 1, t + (0.02 if k < 5 else 0.005)
        t += 0.1
    return write_pcap(path, packets)
