"""G.711: bit-exact against CPython's audioop (the ITU reference algorithm) over every input value."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from voice.media import g711

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop
    except ImportError:  # removed in Python 3.13; the fixed vectors below still pin the tables
        audioop = None

ALL_PCM = np.arange(65536, dtype=np.uint16).view(np.int16).astype("<i2").tobytes()
ALL_CODES = bytes(range(256))
needs_audioop = pytest.mark.skipif(audioop is None, reason="audioop is gone (Python >= 3.13)")


@needs_audioop
def test_ulaw_encode_matches_reference_for_all_65536_samples():
    assert g711.ulaw_encode(ALL_PCM) == audioop.lin2ulaw(ALL_PCM, 2)


@needs_audioop
def test_alaw_encode_matches_reference_for_all_65536_samples():
    assert g711.alaw_encode(ALL_PCM) == audioop.lin2alaw(ALL_PCM, 2)


@needs_audioop
def test_decode_matches_reference_for_all_256_codes():
    assert g711.ulaw_decode(ALL_CODES) == audioop.ulaw2lin(ALL_CODES, 2)
    assert g711.alaw_decode(ALL_CODES) == audioop.alaw2lin(ALL_CODES, 2)


@pytest.mark.parametrize("sample,ulaw,alaw", [
    (0, 0xFF, 0xD5), (-1, 0x7E, 0x55), (32767, 0x80, 0xAA), (-32768, 0x00, 0x2A), (1000, 0xCE, 0xFA),
])
def test_known_code_words(sample, ulaw, alaw):
    pcm = np.array([sample], dtype="<i2").tobytes()
    assert g711.ulaw_encode(pcm) == bytes([ulaw])
    assert g711.alaw_encode(pcm) == bytes([alaw])


def test_alaw_decode_then_encode_is_identity_on_all_code_words():
    assert g711.alaw_encode(g711.alaw_decode(ALL_CODES)) == ALL_CODES


def test_ulaw_round_trip_of_decoded_values_is_exact_except_negative_zero():
    again = g711.ulaw_encode(g711.ulaw_decode(ALL_CODES))
    differing = [c for c, d in zip(ALL_CODES, again) if c != d]
    assert differing == [0x7F]  # -0 and +0 both decode to 0, which encodes as +0 (0xFF)


@pytest.mark.parametrize("pt", [g711.PCMU, g711.PCMA])
def test_round_trip_error_stays_within_half_a_quantisation_step(pt):
    samples = np.frombuffer(ALL_PCM, dtype="<i2").astype(np.int32)
    back = np.frombuffer(g711.decode(g711.encode(ALL_PCM, pt), pt), dtype="<i2").astype(np.int32)
    error = np.abs(back - samples)
    assert np.all(error <= np.maximum(np.abs(samples) // 16, 16) + 64)  # ~ 4 bits of mantissa


def test_output_is_16_bit_pcm_never_8_bit():
    assert len(g711.ulaw_decode(b"\x00" * 160)) == 320
    assert len(g711.alaw_encode(bytes(320))) == 160


def test_arrays_and_silence_bytes():
    samples = np.zeros(160, dtype=np.int16)
    for pt in (g711.PCMU, g711.PCMA):
        assert g711.encode(samples, pt) == bytes([g711.SILENCE_BYTE[pt]]) * 160
        assert np.all(np.abs(g711.decode_array(bytes([g711.SILENCE_BYTE[pt]]) * 4, pt)) <= 8)  # A-law has no 0


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="even number"):
        g711.ulaw_encode(b"\x00\x01\x02")
    with pytest.raises(ValueError, match="G.711 payload type"):
        g711.encode(bytes(4), 3)
    with pytest.raises(ValueError, match="int16"):
        g711.encode(np.zeros(4, dtype=np.float32), g711.PCMU)
