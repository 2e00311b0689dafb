"""One call's RTP media: a UDP socket, a receive thread and a paced send thread, 16-bit PCM on both sides.

The receive thread parses, filters by source, decodes G.711 to int16 and feeds the jitter buffer and the DTMF
detector. The send thread wakes on an absolute 20 ms clock; each tick it sends one packet (queued audio, a DTMF
event, or comfort silence), then plays one frame out of the jitter buffer into the read queue and the recorder,
so both recording channels advance on the same tick. Neither thread touches the disk or the database.
"""
from __future__ import annotations

import collections
import logging
import socket
import threading
from typing import Callable

from voice.media import g711, rtp
from voice.media.dtmf import DtmfDetector, encode_digit, event_code
from voice.media.jitter import JitterBuffer
from voice.media.pacer import Pacer, raise_thread_priority
from voice.media.playback import PlaybackQueue
from voice.media.recording import RTP_THREAD_PREFIX, CallRecorder
from voice.media.settings import MediaSettings

logger = logging.getLogger(__name__)

RATE = 8000
FRAME_SAMPLES = 160
FRAME_BYTES = 2 * FRAME_SAMPLES
SILENCE = bytes(FRAME_BYTES)
COMFORT_NOISE_PT = 13
_JOIN_TIMEOUT = 2.0


class MediaError(RuntimeError):
    """The RTP session could not be set up (e.g. its port is taken)."""


def _resolve(addr: tuple[str, int] | None) -> tuple[str, int] | None:
    """A (numeric IPv4, port) pair for a (host, port) pair; ValueError when it is not one."""
    if addr is None:
        return None
    try:
        host, port = addr
        if not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"bad port {port!r}")
        return socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)[0][4][:2]
    except (TypeError, ValueError, socket.gaierror) as exc:
        raise ValueError(f"remote must be a (host, port) pair, got {addr!r}: {exc}") from None


class RtpSession:
    """Bidirectional RTP for one call: ``write()`` audio out, ``read_frame()`` audio in, DTMF both ways."""

    def __init__(self, local_host: str = "0.0.0.0", local_port: int = 0, remote: tuple[str, int] | None = None,
                 payload_type: int = g711.PCMU, dtmf_payload_type: int | None = 101,
                 on_dtmf: Callable[[str], None] | None = None, symmetric: bool = True, *,
                 settings: MediaSettings | None = None, recorder: CallRecorder | None = None):
        if payload_type not in (g711.PCMU, g711.PCMA):
            raise ValueError(f"payload_type must be 0 (PCMU) or 8 (PCMA), not {payload_type!r}")
        if dtmf_payload_type is not None and not 96 <= dtmf_payload_type <= 127:
            raise ValueError(f"dtmf_payload_type must be a dynamic payload type 96..127, not {dtmf_payload_type!r}")
        self.settings = settings or MediaSettings()
        self.local_host, self._requested_port = local_host, local_port
        self.payload_type, self.dtmf_payload_type = payload_type, dtmf_payload_type
        self.on_dtmf, self.symmetric, self.recorder = on_dtmf, symmetric, recorder
        self._remote = self._signalled = _resolve(remote)
        self._retired: collections.deque[tuple[str, int]] = collections.deque(maxlen=8)
        self._latched = False
        self._lock = threading.Lock()  # guards the jitter buffer and the remote address
        self._jitter = JitterBuffer(self.settings.jitter, rate=RATE, frame_samples=FRAME_SAMPLES)
        self._playback = PlaybackQueue(FRAME_BYTES, 2 * RATE, self.settings.max_playback_seconds)
        self._frames: collections.deque[bytes] = collections.deque(maxlen=self.settings.read_queue_frames)
        self._frames_cond = threading.Condition()
        self._detector = DtmfDetector()
        self._dtmf_out: collections.deque[str] = collections.deque()
        self._dtmf_active: list[tuple[bytes, bool]] = []
        self._dtmf_ts = 0
        self._sender = rtp.RtpSender(payload_type)
        self._pacer = Pacer(FRAME_SAMPLES / RATE, spin=self.settings.pacer_spin_ms / 1000.0)
        self._sock: socket.socket | None = None
        self._port = local_port
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._sent_last_tick = False
        self._counters = collections.Counter()
        self.priority = "normal"  # what the send thread got, see raise_thread_priority

    # -- lifecycle ---------------------------------------------------------------------------------------------

    @property
    def local_port(self) -> int:
        """The bound UDP port (the requested one before ``start()``)."""
        return self._port

    @property
    def remote(self) -> tuple[str, int] | None:
        """Where RTP is sent: the configured remote, or the source latched from the first packet."""
        with self._lock:
            return self._remote

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return bool(self._threads) and not self._stopping.is_set()

    def set_remote(self, remote: tuple[str, int] | None) -> None:
        """Point the stream at a new remote (re-INVITE); the previous address can no longer latch."""
        addr = _resolve(remote)
        with self._lock:
            for old in (self._remote, self._signalled):
                if old is not None and old != addr and old not in self._retired:
                    self._retired.append(old)  # its stray packets must not win the new latch
            self._remote = self._signalled = addr
            self._latched = False

    def start(self) -> "RtpSession":
        """Bind the socket and start the receive and send threads; raises MediaError if the port is unusable."""
        if self._threads:
            raise RuntimeError("RtpSession already started")
        g711.decode(g711.encode(SILENCE, self.payload_type), self.payload_type)  # build the tables off the clock
        self._sock = self._open_socket()
        port = self._port = self._sock.getsockname()[1]
        self._threads = [threading.Thread(target=self._guard, args=(self._receive_loop,),
                                          name=f"{RTP_THREAD_PREFIX}rx-{port}", daemon=True),
                         threading.Thread(target=self._guard, args=(self._send_loop,),
                                          name=f"{RTP_THREAD_PREFIX}tx-{port}", daemon=True)]
        for thread in self._threads:
            thread.start()
        logger.debug("RTP session on port %d started (pt %d)", port, self.payload_type)
        return self

    def _open_socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.local_host, self._requested_port))
        except OSError as exc:
            sock.close()
            raise MediaError(f"cannot bind RTP to {self.local_host}:{self._requested_port}: {exc.strerror}") from exc
        if self.settings.dscp:
            try:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, self.settings.dscp << 2)
            except OSError:
                logger.debug("could not set DSCP on the RTP socket")
        sock.settimeout(0.5)  # fallback only: stop() wakes the receiver with a datagram to itself
        return sock

    def stop(self) -> None:
        """Stop both threads, join them and close the socket (idempotent); ``read_frame`` then returns b""."""
        if self._stopping.is_set() or self._sock is None:
            self._stopping.set()
            return
        self._stopping.set()
        self._wake_receiver()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(_JOIN_TIMEOUT)
                if thread.is_alive():
                    logger.warning("RTP thread %s did not stop in time", thread.name)
        self._sock.close()
        self._playback.clear()
        with self._frames_cond:
            self._frames_cond.notify_all()
        logger.debug("RTP session on port %d stopped: %s", self.local_port, dict(self._counters))

    def _wake_receiver(self) -> None:
        host = self._sock.getsockname()[0]
        if host == "0.0.0.0":
            host = "127.0.0.1"
        try:
            self._sock.sendto(b"", (host, self._port))
        except OSError:
            logger.debug("could not wake the RTP receiver; it stops on its timeout")

    def __enter__(self) -> "RtpSession":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _guard(self, loop: Callable[[], None]) -> None:
        """Run a thread loop; an unexpected error is logged (with traceback) instead of vanishing silently."""
        try:
            loop()
        except Exception:
            logger.exception("RTP thread %s failed", threading.current_thread().name)
            self._counters["thread_errors"] += 1

    # -- receiving ---------------------------------------------------------------------------------------------

    def _receive_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                data, addr = self._sock.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError as exc:
                if not self._stopping.is_set():
                    logger.debug("RTP receive error: %s", exc)
                    self._counters["receive_errors"] += 1
                continue
            if not self._stopping.is_set():
                self._on_datagram(data, addr[:2])

    def _on_datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            packet = rtp.parse(data)
        except rtp.RtpParseError:
            self._counters["parse_errors"] += 1
            return
        known = packet.payload_type in (self.payload_type, self.dtmf_payload_type, COMFORT_NOISE_PT)
        if not self._accept_source(addr, known):
            self._counters["wrong_source"] += 1
            return
        self._counters["packets_in"] += 1
        if packet.payload_type == self.payload_type:
            samples = g711.decode_array(packet.payload, self.payload_type)
            with self._lock:
                self._jitter.push(packet.sequence, packet.timestamp, samples, packet.ssrc)
        elif packet.payload_type == self.dtmf_payload_type:
            with self._lock:
                self._jitter.note_other(packet.sequence)
            self._on_event(packet)
        elif packet.payload_type != COMFORT_NOISE_PT:
            self._counters["unknown_payload"] += 1

    def _accept_source(self, addr: tuple[str, int], known_payload: bool) -> bool:
        """Accept the latched source, or the signalled address (which always wins); latch the first valid
        packet from elsewhere only with symmetric RTP (NAT) or when no remote was signalled."""
        with self._lock:
            if self._latched and addr == self._remote:
                return True
            if addr == self._signalled:
                self._latch(addr)
                return True
            if self._latched or not known_payload or addr in self._retired:
                return False
            if self._signalled is not None and not self.symmetric:
                return False
            self._latch(addr)
            return True

    def _latch(self, addr: tuple[str, int]) -> None:
        if addr != self._remote or not self._latched:
            logger.info("RTP remote latched to %s:%d", addr[0], addr[1])
        self._remote, self._latched = addr, True

    def _on_event(self, packet: rtp.RtpPacket) -> None:
        try:
            digit = self._detector.feed(packet.payload, packet.timestamp)
        except ValueError:
            self._counters["parse_errors"] += 1
            return
        if digit is None:
            return
        self._counters["dtmf_in"] += 1
        logger.debug("DTMF received")
        if self.on_dtmf is not None:
            try:
                self.on_dtmf(digit)  # runs on the RTP thread: it must be quick (e.g. put on a queue)
            except Exception:
                logger.exception("on_dtmf callback failed")

    def read_frame(self, timeout: float | None = None) -> bytes:
        """The next 20 ms of received audio (320 bytes of 8 kHz 16-bit LE PCM: real, concealed or silence).

        Frames come one per tick of the send clock; b"" means none came within ``timeout`` or the session stopped.
        """
        with self._frames_cond:
            self._frames_cond.wait_for(lambda: self._frames or self._stopping.is_set(), timeout)
            return self._frames.popleft() if self._frames else b""

    # -- sending -----------------------------------------------------------------------------------------------

    def write(self, pcm16: bytes, *, more: bool = False) -> None:
        """Queue 8 kHz 16-bit LE PCM for sending; ``more=True`` says the utterance continues (see PlaybackQueue)."""
        self._playback.write(pcm16, more=more)

    def end_playback(self) -> None:
        """Mark the queued audio as a complete utterance (withdraws a ``more=True``)."""
        self._playback.end()

    def clear_playback(self) -> float:
        """Barge-in: drop all queued audio not yet sent; returns the seconds dropped."""
        dropped = self._playback.clear()
        if dropped:
            self._counters["barge_ins"] += 1
        return dropped

    def playback_pending(self) -> float:
        """Seconds of queued audio not yet sent."""
        return self._playback.pending()

    def wait_playback(self, timeout: float | None = None) -> bool:
        """Block until the queued audio has been sent (or cleared); False on timeout."""
        return self._playback.wait_empty(timeout)

    def send_dtmf(self, digits: str) -> None:
        """Queue DTMF digits (0-9 * # A-D) to send as RFC 4733 events; ValueError for others."""
        if self.dtmf_payload_type is None:
            raise ValueError("this session has no telephone-event payload type")
        for digit in digits:
            event_code(digit)
        self._dtmf_out.extend(digits)

    def _send_loop(self) -> None:
        self.priority = raise_thread_priority(self.settings.sender_priority)
        if self.priority == "realtime":
            self._pacer.spin = 0.0
        self._pacer.start()
        last = -1
        while not self._stopping.is_set():
            slot = self._pacer.wait()
            if self._stopping.is_set():
                break
            for _ in range(slot - last - 1):  # slots skipped after a stall: keep the media clocks in step
                self._sender.advance(FRAME_SAMPLES)
                self._play_out(SILENCE)
            last = slot
            self._play_out(self._send_tick())

    def _send_tick(self) -> bytes:
        """Send this tick's packet; returns the audio it carried (for the recording)."""
        frame = None
        if self._dtmf_active or self._dtmf_out:
            self._send_dtmf_packet()
        else:
            frame = self._playback.take()
            if frame is not None:
                self._send(g711.encode(frame, self.payload_type), marker=not self._sent_last_tick)
            elif self.settings.idle == "silence":
                self._send(bytes([g711.SILENCE_BYTE[self.payload_type]]) * FRAME_SAMPLES,
                           marker=not self._sent_last_tick)
            else:
                self._sent_last_tick = False
        self._sender.advance(FRAME_SAMPLES)
        return frame or SILENCE

    def _send_dtmf_packet(self) -> None:
        if not self._dtmf_active:
            s = self.settings
            self._dtmf_active = encode_digit(self._dtmf_out.popleft(), duration_ms=s.dtmf_duration_ms,
                                             volume=s.dtmf_volume)
            self._dtmf_active += [(b"", False)] * 2  # a 40 ms pause before the next digit
            self._dtmf_ts = self._sender.timestamp
            self._counters["dtmf_out"] += 1
        payload, marker = self._dtmf_active.pop(0)
        if payload:
            self._send(payload, marker=marker, payload_type=self.dtmf_payload_type, timestamp=self._dtmf_ts)
        elif self.settings.idle == "silence":
            self._send(bytes([g711.SILENCE_BYTE[self.payload_type]]) * FRAME_SAMPLES)
        else:
            self._sent_last_tick = False

    def _send(self, payload: bytes, *, marker: bool = False, payload_type: int | None = None,
              timestamp: int | None = None) -> None:
        with self._lock:
            remote = self._remote
        if remote is None:
            self._sent_last_tick = False
            return
        packet = self._sender.packet(payload, marker=marker, payload_type=payload_type, timestamp=timestamp)
        try:
            self._sock.sendto(packet, remote)
            self._counters["packets_out"] += 1
            self._sent_last_tick = True
        except OSError as exc:
            self._counters["send_errors"] += 1
            logger.debug("RTP send to %s failed: %s", remote, exc)

    def _play_out(self, sent: bytes) -> None:
        """Play one frame out of the jitter buffer to the reader and, with what was sent, to the recorder."""
        with self._lock:
            frame = self._jitter.pop()
        pcm = frame.astype("<i2", copy=False).tobytes()
        with self._frames_cond:
            if len(self._frames) == self._frames.maxlen:
                self._counters["read_overflows"] += 1
            self._frames.append(pcm)
            self._frames_cond.notify()
        if self.recorder is not None:
            self.recorder.append(pcm, sent)

    # -- figures -----------------------------------------------------------------------------------------------

    @property
    def stats(self) -> dict:
        """A snapshot of the session's counters, jitter buffer figures and send-time figures."""
        with self._lock:
            jitter = dict(vars(self._jitter.stats), depth_ms=self._jitter.depth_ms,
                          buffered_ms=self._jitter.buffered_ms)
            remote = self._remote
        pacer = self._pacer.stats()
        counters = {k: self._counters.get(k, 0) for k in (
            "packets_in", "packets_out", "wrong_source", "parse_errors", "unknown_payload", "send_errors",
            "receive_errors", "dtmf_in", "dtmf_out", "barge_ins", "read_overflows", "thread_errors")}
        return {**counters, **{f"jitter_{k}": v for k, v in jitter.items()},
                "lost": jitter["lost"], "late": jitter["late"], "reordered": jitter["reordered"],
                "duplicates": jitter["duplicates"], "concealed": jitter["concealed"],
                "underruns": self._playback.underruns, "send_late_ticks": pacer.late_ticks,
                "send_skipped": pacer.skipped, "send_lateness_p99_ms": pacer.lateness_p99_ms,
                "send_interval_dev_p99_ms": pacer.interval_dev_p99_ms,
                "send_interval_dev_max_ms": pacer.interval_dev_max_ms, "remote": remote}
