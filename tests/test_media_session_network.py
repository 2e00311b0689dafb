"""RtpSession against crafted RTP from raw sockets: reordering, loss, duplicates, late and foreign packets, leaks."""
from __future__ import annotations

import os
import socket
import threading
import time

import numpy as np
import pytest

from voice.media import g711, rtp
from voice.media.jitter import JitterSettings
from voice.media.pacer import Pacer
from voice.media.session import FRAME_BYTES, RtpSession
from voice.media.settings import MediaSettings

CODES = list(range(0x80, 0x80 + 30))  # distinct positive mu-law code words, one per packet
VALUES = [int(g711.decode_array(bytes([c]), g711.PCMU)[0]) for c in CODES]


@pytest.fixture
def peer():
    """A raw UDP socket on loopback that plays the far end."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(1)
    yield sock
    sock.close()


def packet(k: int, ssrc: int = 0x1234, seq0: int = 65520, ts0: int = 2**32 - 1600) -> bytes:
    """Packet number k of a stream whose sequence and timestamp wrap around mid-test."""
    return rtp.RtpPacket(0, (seq0 + k) % 65536, (ts0 + 160 * k) % 2**32, ssrc, bytes([CODES[k]]) * 160).build()


def send_paced(sock: socket.socket, addr, plan: list[list[int]]) -> None:
    """Send, every 20 ms, the packets listed for that tick (a list of packet numbers)."""
    pacer = Pacer(0.02)
    pacer.start()
    for tick in plan:
        pacer.wait()
        for k in tick:
            sock.sendto(packet(k), addr)


def first_samples(session: RtpSession, frames: int) -> list[int]:
    out = []
    for _ in range(frames):
        frame = session.read_frame(timeout=1)
        assert len(frame) == FRAME_BYTES
        out.append(int(np.frombuffer(frame, dtype="<i2")[0]))
    return out


def test_reordering_loss_duplicates_and_late_packets(peer):
    assert not set(VALUES) & {v // 2 for v in VALUES}  # concealed frames are told apart from real ones
    plan = [[k] for k in range(30)]
    plan[8] = []  # lost
    plan[12], plan[13] = [13], [12]  # reordered
    plan[15] = [15, 15]  # duplicated
    plan[20], plan[29] = [], [29, 20]  # 180 ms late: beyond the 100 ms depth
    steady = MediaSettings(jitter=JitterSettings(depth_ms=100, adaptive=False))  # robust to a stalled CI box
    with RtpSession("127.0.0.1", 0, None, settings=steady) as session:
        sender = threading.Thread(target=send_paced, args=(peer, ("127.0.0.1", session.local_port), plan))
        sender.start()
        heard = first_samples(session, 55)
        sender.join()
        stats = session.stats
    real = [VALUES.index(v) for v in heard if v in VALUES]
    assert real == [k for k in range(30) if k not in (8, 20)]
    assert VALUES[7] // 2 in heard or int(VALUES[7] * 0.5) in heard  # the lost packet was concealed
    assert stats["duplicates"] == 1 and stats["late"] == 1 and stats["reordered"] == 1
    assert stats["lost"] == 2 and stats["jitter_resyncs"] == 0


def test_packets_from_another_source_are_ignored_after_latching(peer):
    intruder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with RtpSession("127.0.0.1", 0, ("127.0.0.1", 9)) as session:  # SDP said port 9; NAT says otherwise
            addr = ("127.0.0.1", session.local_port)
            peer.sendto(packet(0), addr)
            time.sleep(0.1)
            for k in range(1, 10):
                intruder.sendto(packet(k, ssrc=0x666), addr)
            time.sleep(0.1)
            stats = session.stats
            data, _ = peer.recvfrom(2048)  # our stream now goes to the latched source
        assert stats["remote"] == peer.getsockname()
        assert stats["wrong_source"] == 9 and stats["packets_in"] == 1
        assert rtp.parse(data).payload_type == 0
    finally:
        intruder.close()


def test_without_symmetric_rtp_only_the_given_remote_is_heard(peer):
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with RtpSession("127.0.0.1", 0, peer.getsockname(), symmetric=False) as session:
            addr = ("127.0.0.1", session.local_port)
            stranger.sendto(packet(0), addr)
            peer.sendto(packet(1), addr)
            time.sleep(0.1)
            assert session.stats["wrong_source"] == 1 and session.stats["packets_in"] == 1
    finally:
        stranger.close()


def test_garbage_and_unknown_payloads_do_not_latch_or_break_the_session(peer):
    with RtpSession("127.0.0.1", 0, None) as session:
        addr = ("127.0.0.1", session.local_port)
        peer.sendto(b"\x00garbage", addr)
        peer.sendto(rtp.RtpPacket(18, 1, 1, 1, b"g729").build(), addr)  # a codec we never offered
        time.sleep(0.05)
        assert session.remote is None
        assert session.stats["parse_errors"] == 1 and session.stats["wrong_source"] == 1
        peer.sendto(packet(0), addr)
        time.sleep(0.05)
        assert session.remote == peer.getsockname()
        assert session.stats["thread_errors"] == 0


def test_incoming_dtmf_from_a_raw_peer_is_reported_once(peer):
    from voice.media.dtmf import encode_digit

    digits = []
    with RtpSession("127.0.0.1", 0, None, on_dtmf=digits.append) as session:
        addr = ("127.0.0.1", session.local_port)
        for i, (payload, marker) in enumerate(encode_digit("4") * 2):  # every packet twice, as a retransmit
            peer.sendto(rtp.RtpPacket(101, i, 8000, 7, payload, marker).build(), addr)
        time.sleep(0.1)
    assert digits == ["4"]


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_200_sessions_leak_no_threads_and_no_sockets():
    settings = MediaSettings(sender_priority="normal")
    warm = RtpSession("127.0.0.1", 0, settings=settings).start()
    warm.stop()
    threads, fds = threading.active_count(), _fds()
    for _ in range(20):
        batch = [RtpSession("127.0.0.1", 0, ("127.0.0.1", 9), settings=settings).start() for _ in range(10)]
        for session in batch:
            session.write(bytes(FRAME_BYTES * 2))
        for session in batch:
            session.stop()
    # Never more than before (a leak); fewer is fine: earlier tests' threads and sockets may close meanwhile.
    assert threading.active_count() <= threads
    assert _fds() <= fds


def test_after_a_reinvite_the_old_endpoint_cannot_take_the_stream_back(peer):
    new = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    new.bind(("127.0.0.1", 0))
    new.settimeout(1)
    try:
        with RtpSession("127.0.0.1", 0, peer.getsockname()) as session:
            addr = ("127.0.0.1", session.local_port)
            peer.sendto(packet(0), addr)
            time.sleep(0.05)
            session.set_remote(new.getsockname())
            for k in range(1, 4):
                peer.sendto(packet(k), addr)  # stray packets from the old endpoint
            time.sleep(0.05)
            new.sendto(packet(4, ssrc=0x999), addr)
            time.sleep(0.05)
            stats = session.stats
            data, _ = new.recvfrom(2048)
        assert stats["remote"] == new.getsockname()
        assert stats["wrong_source"] == 3 and stats["packets_in"] == 2
        assert rtp.parse(data).payload_type == 0
    finally:
        new.close()
