"""G.711 PCMU (mu-law) and PCMA (A-law) between 16-bit signed little-endian PCM and G.711 bytes.

The algorithms are those of the ITU-T G.711 reference (Sun's g711.c, which CPython's ``audioop`` also uses):
mu-law works on the 14 most significant bits, A-law on the 13 most significant bits. Every conversion is a
numpy table lookup; the four tables (2 x 65536 encode, 2 x 256 decode) are built on first use and cached.
"""
from __future__ import annotations

import functools
import logging

import numpy as np

logger = logging.getLogger(__name__)

PCMU = 0
PCMA = 8
#: The G.711 byte that decodes to silence (0) for each payload type.
SILENCE_BYTE = {PCMU: 0xFF, PCMA: 0xD5}

_MU_CLIP = 8159  # 14-bit magnitude limit of the reference encoder
_MU_BIAS = 0x84 >> 2  # the reference's bias, scaled to 14 bits


def _segment(magnitude: np.ndarray, ends: tuple[int, ...]) -> np.ndarray:
    """Index of the first segment end that is >= magnitude (8 when above them all), as in g711.c search()."""
    return np.searchsorted(np.asarray(ends, dtype=np.int32), magnitude, side="left").astype(np.int32)


@functools.lru_cache(maxsize=None)
def _ulaw_encode_table() -> np.ndarray:
    """mu-law byte for every 16-bit sample, indexed by the sample's unsigned 16-bit pattern."""
    pcm = np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int32) >> 2
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    mag = np.minimum(np.abs(pcm), _MU_CLIP) + _MU_BIAS
    seg = _segment(mag, (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF))
    code = (seg << 4) | ((mag >> (seg + 1)) & 0xF)
    code = np.where(seg >= 8, 0x7F, code)
    return (code ^ mask).astype(np.uint8)


@functools.lru_cache(maxsize=None)
def _alaw_encode_table() -> np.ndarray:
    """A-law byte for every 16-bit sample, indexed by the sample's unsigned 16-bit pattern."""
    pcm = np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int32) >> 3
    negative = pcm < 0
    mask = np.where(negative, 0x55, 0xD5)
    mag = np.where(negative, -pcm - 1, pcm)
    seg = _segment(mag, (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF))
    shift = np.where(seg < 2, 1, seg)
    code = (seg << 4) | ((mag >> np.minimum(shift, 15)) & 0xF)
    code = np.where(seg >= 8, 0x7F, code)
    return (code ^ mask).astype(np.uint8)


@functools.lru_cache(maxsize=None)
def _ulaw_decode_table() -> np.ndarray:
    """16-bit sample for every mu-law byte."""
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.int16)


@functools.lru_cache(maxsize=None)
def _alaw_decode_table() -> np.ndarray:
    """16-bit sample for every A-law byte."""
    a = np.arange(256, dtype=np.int32) ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    t = np.where(seg == 0, t + 8, t + 0x108)
    t = np.where(seg > 1, t << np.maximum(seg - 1, 0), t)
    return np.where(a & 0x80, t, -t).astype(np.int16)


def _samples(pcm16: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """The int16 samples of little-endian PCM bytes (or an int16 array, passed through)."""
    if isinstance(pcm16, np.ndarray):
        if pcm16.dtype != np.int16:
            raise ValueError(f"PCM samples must be int16, not {pcm16.dtype}")
        return pcm16
    if len(pcm16) % 2:
        raise ValueError("16-bit PCM must have an even number of bytes")
    return np.frombuffer(pcm16, dtype="<i2")


def encode_array(samples: np.ndarray, payload_type: int) -> bytes:
    """G.711 bytes for an int16 sample array."""
    table = _encode_table(payload_type)
    return table[samples.astype("<i2", copy=False).view(np.uint16)].tobytes()


def decode_array(data: bytes | bytearray | memoryview, payload_type: int) -> np.ndarray:
    """int16 sample array (native order) for G.711 bytes."""
    return _decode_table(payload_type)[np.frombuffer(data, dtype=np.uint8)]


def encode(pcm16: bytes | bytearray | memoryview | np.ndarray, payload_type: int) -> bytes:
    """G.711 bytes (PCMU=0 or PCMA=8) for 16-bit signed little-endian PCM."""
    return encode_array(_samples(pcm16), payload_type)


def decode(data: bytes | bytearray | memoryview, payload_type: int) -> bytes:
    """16-bit signed little-endian PCM for G.711 bytes (PCMU=0 or PCMA=8)."""
    return decode_array(data, payload_type).astype("<i2", copy=False).tobytes()


def ulaw_encode(pcm16: bytes | np.ndarray) -> bytes:
    """mu-law bytes for 16-bit little-endian PCM."""
    return encode(pcm16, PCMU)


def ulaw_decode(data: bytes) -> bytes:
    """16-bit little-endian PCM for mu-law bytes."""
    return decode(data, PCMU)


def alaw_encode(pcm16: bytes | np.ndarray) -> bytes:
    """A-law bytes for 16-bit little-endian PCM."""
    return encode(pcm16, PCMA)


def alaw_decode(data: bytes) -> bytes:
    """16-bit little-endian PCM for A-law bytes."""
    return decode(data, PCMA)


def _encode_table(payload_type: int) -> np.ndarray:
    if payload_type == PCMU:
        return _ulaw_encode_table()
    if payload_type == PCMA:
        return _alaw_encode_table()
    raise ValueError(f"not a G.711 payload type: {payload_type!r} (0 = PCMU, 8 = PCMA)")


def _decode_table(payload_type: int) -> np.ndarray:
    if payload_type == PCMU:
        return _ulaw_decode_table()
    if payload_type == PCMA:
        return _alaw_decode_table()
    raise ValueError(f"not a G.711 payload type: {payload_type!r} (0 = PCMU, 8 = PCMA)")
