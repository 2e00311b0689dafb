"""A real caller for voice tests and the voice benchmark: our SIP stack with a bare, instrumented RTP endpoint.

``ProbeMedia`` is the caller's media: it sends queued 8 kHz PCM as G.711 on an absolute 20 ms clock (silence
between utterances, like a phone) and timestamps every RTP packet it receives, so tests measure the agent from
the wire: when our speech started and ended, when the agent's audio started and stopped. ``Caller`` places calls
with a ``SipAgent`` whose media factory builds probes.
"""
from __future__ import annotations

import collections
import math
import socket
import threading
import time
from dataclasses import dataclass

import numpy as np

from voice.media import g711, rtp
from voice.media.dtmf import encode_digit
from voice.sip import Call, SipAgent, SipSettings

FRAME = 320  # bytes of 20 ms at 8 kHz, 16-bit
SPEECH_DBFS = -45.0


def level_dbfs(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    rms = math.sqrt(float(np.mean(samples * samples))) if samples.size else 0.0
    return 20 * math.log10(rms / 32768) if rms > 1e-3 else -120.0


@dataclass
class Received:
    at: float
    pcm: bytes
    dbfs: float


class ProbeMedia:
    """Bare RTP for a test caller (same constructor as ``RtpSession`` so ``SipAgent`` can build it)."""

    def __init__(self, local_host: str, local_port: int, remote: tuple[str, int], payload_type: int,
                 dtmf_payload_type: int | None = 101, on_dtmf=None):
        self.local_host, self.local_port, self.remote = local_host, local_port, remote
        self.payload_type, self.dtmf_payload_type = payload_type, dtmf_payload_type
        self._sender = rtp.RtpSender(payload_type)
        self._out: collections.deque[bytes] = collections.deque()
        self._dtmf: collections.deque[tuple[bytes, bool]] = collections.deque()
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self.sent_speech: list[tuple[float, float]] = []  # (first, last) send time of each played utterance
        self._utterance_first: float | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._dtmf_ts = 0
        self.echo_gain = 0.0
        """>0: send back what we receive at this gain (an echoing line), when nothing else is queued."""
        self.stats = {"packets_in": 0, "packets_out": 0}

    def start(self) -> "ProbeMedia":
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((self.local_host, self.local_port))
        self._sock.settimeout(0.2)
        self.local_port = self._sock.getsockname()[1]
        self._threads = [threading.Thread(target=self._rx, daemon=True, name=f"probe-rx-{self.local_port}"),
                         threading.Thread(target=self._tx, daemon=True, name=f"probe-tx-{self.local_port}")]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(2)
        self._sock.close()

    def set_remote(self, remote: tuple[str, int]) -> None:
        self.remote = remote

    # -- sending ----------------------------------------------------------------------------------------------
    def play(self, pcm8k: bytes) -> None:
        """Queue one utterance (sent after what is already queued)."""
        pcm8k = pcm8k + bytes(-len(pcm8k) % FRAME)
        with self._lock:
            self._out.extend(pcm8k[i:i + FRAME] for i in range(0, len(pcm8k), FRAME))
            self._out.append(b"END")

    def send_dtmf(self, digit: str) -> None:
        with self._lock:
            self._dtmf.extend(encode_digit(digit, duration_ms=100, volume=10))

    def playing(self) -> bool:
        with self._lock:
            return bool(self._out)

    def _tx(self) -> None:
        start, tick = time.monotonic(), 0
        while not self._stop.is_set():
            tick += 1
            delay = start + tick * 0.02 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._send_tick()

    def _next_frame(self) -> bytes:
        with self._lock:
            frame = self._out.popleft() if self._out else None
            if frame == b"END":
                self.sent_speech.append((self._utterance_first or time.monotonic(), time.monotonic()))
                self._utterance_first = None
                frame = self._out.popleft() if self._out else None
            if frame is not None and self._utterance_first is None:
                self._utterance_first = time.monotonic()
        if frame is None and self.echo_gain > 0 and self.received:
            echo = np.frombuffer(self.received[-1].pcm, dtype="<i2") * self.echo_gain
            frame = echo.astype("<i2").tobytes()
        return frame or bytes(FRAME)

    def _send_tick(self) -> None:
        with self._lock:
            event = self._dtmf.popleft() if self._dtmf else None
        if event is not None:
            if event[1]:  # every packet of one event carries the timestamp of its start (RFC 4733)
                self._dtmf_ts = self._sender.timestamp
            packet = self._sender.packet(event[0], marker=event[1], payload_type=self.dtmf_payload_type,
                                         timestamp=self._dtmf_ts)
        else:
            packet = self._sender.packet(g711.encode(self._next_frame(), self.payload_type))
        self._sender.advance(160)
        try:
            self._sock.sendto(packet, self.remote)
            self.stats["packets_out"] += 1
        except OSError:
            pass

    # -- receiving --------------------------------------------------------------------------------------------
    def _rx(self) -> None:
        while not self._stop.is_set():
            try:
                data, _ = self._sock.recvfrom(2048)
            except (socket.timeout, OSError):
                continue
            try:
                packet = rtp.parse(data)
            except rtp.RtpParseError:
                continue
            if packet.payload_type != self.payload_type:
                continue
            pcm = g711.decode(packet.payload, self.payload_type)
            self.received.append(Received(time.monotonic(), pcm, level_dbfs(pcm)))
            self.stats["packets_in"] += 1

    def speech_spans(self, since: float = 0.0, gap: float = 0.4) -> list[tuple[float, float]]:
        """(first, last) arrival time of each stretch of received speech (gaps shorter than ``gap`` joined)."""
        spans: list[list[float]] = []
        for item in list(self.received):
            if item.at < since or item.dbfs < SPEECH_DBFS:
                continue
            if spans and item.at - spans[-1][1] <= gap:
                spans[-1][1] = item.at
            else:
                spans.append([item.at, item.at])
        return [(a, b) for a, b in spans]

    def audio(self, since: float = 0.0, until: float = math.inf) -> bytes:
        """Received audio between two times, as 8 kHz PCM."""
        return b"".join(r.pcm for r in list(self.received) if since <= r.at <= until)

    def wait_speech_end(self, since: float, timeout: float, quiet: float = 1.0) -> tuple[float, float] | None:
        """The first span of agent speech after ``since`` once it has been followed by ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            spans = self.speech_spans(since, gap=quiet)
            if spans and time.monotonic() - spans[0][1] >= quiet:
                return spans[0]
            time.sleep(0.05)
        return None


def probe_factory(local_host, local_port, remote, payload_type, dtmf_payload_type=101, on_dtmf=None):
    """``SipAgent`` media factory building ``ProbeMedia``."""
    return ProbeMedia(local_host, local_port, remote, payload_type, dtmf_payload_type, on_dtmf)


class Caller:
    """A SIP phone on loopback that calls the agent and talks through ``ProbeMedia``."""

    def __init__(self, **settings):
        base = dict(bind_host="127.0.0.1", bind_port=0, rtp_port_min=40000, rtp_port_max=49998, t1_seconds=0.1,
                    keepalive_seconds=0.0, max_calls=64)
        self.agent = SipAgent(SipSettings(**{**base, **settings}), None, media_factory=probe_factory).start()

    def call(self, number: str, port: int, timeout: float = 10.0) -> Call:
        """Dial ``number`` at 127.0.0.1:``port`` and wait for the answer."""
        call = self.agent.place_call(f"sip:{number}@127.0.0.1:{port}")
        if not call.wait_answered(timeout):
            raise AssertionError(f"call not answered: {call.ended_reason} {call.status_code}")
        return call

    def stop(self) -> None:
        self.agent.stop()
