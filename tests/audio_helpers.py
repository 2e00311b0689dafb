"""Speech for tests: Piper and espeak-ng voices, the telephone path (8 kHz G.711), silence, and word error rate.

Other test modules reuse these. Loading a Piper voice costs about a second, so ``piper_engine()`` loads the
packaged voice once per test session (a test-only cache; production code builds engines during wiring).
"""
from __future__ import annotations

import functools
import io
import re
import shutil
import subprocess
import wave

import numpy as np

from voice.media import g711
from voice.media.resample import resample

TELEPHONE_RATE = 8000

# What a dental clinic's knowledge base, prompts and expected answers would give the recognizer to adapt to.
DENTAL_KB = (
    "Our opening hours are Monday to Friday from 8 am to 6 pm and Saturday from 9 am to 1 pm.",
    "We are closed on Sunday and on public holidays.",
    "A teeth cleaning costs $80. A root canal costs between $700 and $900.",
    "Teeth whitening costs $300. A filling costs $120. A dental check up costs $60.",
    "We accept most dental insurance plans, including Delta Dental and Cigna.",
    "Dr. Patel and Dr. Nguyen are our dentists.",
    "The clinic is located at 42 Main Street, next to the pharmacy. There is free parking behind the building.",
    "You can book, change or cancel an appointment by phone.",
    "If you have a toothache or a dental emergency, call us and we will see you the same day.",
    "How can I help you today?",
    "What day would you like to come in?",
    "Can I have your name, please?",
    "Is that correct?",
)

# Callers' questions: in the clinic's domain, but not the knowledge base's sentences.
DENTAL_QUESTIONS = (
    "what are your opening hours on saturday",
    "how much does a teeth cleaning cost",
    "i would like to book an appointment for next tuesday",
    "do you accept dental insurance",
    "can i see doctor patel on friday morning",
    "how much is a root canal",
    "are you open on sunday",
    "i need to cancel my appointment",
    "do you do teeth whitening",
    "where is the clinic located",
    "my tooth hurts can i come in today",
    "what time do you close today",
)

ESPEAK_VOICE = "en-us+klatt3"  # of espeak-ng's English variants, the one a wideband recognizer hears best


@functools.cache
def piper_engine():
    """The packaged English Piper voice, loaded once per test session.

    Without its random variation (noise scales 0) the same text always gives the same audio, so a test's
    recognition results do not change from run to run.
    """
    import tempfile
    from pathlib import Path

    from voice.tts import make_tts
    from voice.tts.piper_engine import PiperSettings

    steady = PiperSettings(threads=1, noise_scale=0.0, noise_w_scale=0.0)
    return make_tts(Path(tempfile.gettempdir()) / "callbox-no-models", "en", steady)


def piper_speech(text: str) -> tuple[bytes, int]:
    """Piper's packaged voice saying ``text``: (16-bit PCM, rate)."""
    return piper_engine().synthesize(text)


def espeak_speech(text: str, voice: str = ESPEAK_VOICE) -> tuple[bytes, int]:
    """espeak-ng (Debian package ``espeak-ng``) saying ``text``: (16-bit PCM, rate)."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed: apt-get install espeak-ng")
    wav = subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], capture_output=True, check=True,
                         timeout=60).stdout
    with wave.open(io.BytesIO(wav)) as handle:
        return handle.readframes(handle.getnframes()), handle.getframerate()


def telephone(pcm16: bytes, rate: int, law: str = "ulaw") -> bytes:
    """What arrives from a phone line: 8 kHz, through G.711 (mu-law or A-law) and back to 16-bit PCM."""
    narrow = resample(pcm16, rate, TELEPHONE_RATE) if rate != TELEPHONE_RATE else pcm16
    payload = g711.PCMU if law == "ulaw" else g711.PCMA
    return g711.decode(g711.encode(narrow, payload), payload)


def to_rate(pcm16: bytes, rate: int, target: int) -> bytes:
    """Resample (soxr) unless already there."""
    return pcm16 if rate == target else resample(pcm16, rate, target)


def silence(ms: int, rate: int = TELEPHONE_RATE) -> bytes:
    """Digital silence."""
    return b"\x00\x00" * (rate * ms // 1000)


def noise(ms: int, rate: int = TELEPHONE_RATE, dbfs: float = -60.0, seed: int = 0) -> bytes:
    """White noise at an RMS level (line noise)."""
    samples = np.random.default_rng(seed).standard_normal(rate * ms // 1000) * 32768 * 10 ** (dbfs / 20)
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def scale(pcm16: bytes, db: float) -> bytes:
    """The same audio ``db`` louder (negative: quieter)."""
    samples = np.frombuffer(pcm16, dtype="<i2").astype(np.float64) * 10 ** (db / 20)
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def mix(a: bytes, b: bytes) -> bytes:
    """Sum two 16-bit signals (the shorter padded with silence)."""
    x, y = np.frombuffer(a, dtype="<i2").astype(np.int32), np.frombuffer(b, dtype="<i2").astype(np.int32)
    n = max(len(x), len(y))
    out = np.zeros(n, dtype=np.int32)
    out[:len(x)] += x
    out[:len(y)] += y
    return np.clip(out, -32768, 32767).astype("<i2").tobytes()


def words(text: str) -> list[str]:
    """Lower-case words without punctuation, for scoring."""
    return re.findall(r"[^\W_]+(?:'[^\W_]+)*", text.lower())


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference word count): Levenshtein distance over words."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        diagonal, row[0] = row[0], i
        for j in range(1, len(hyp) + 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ref[i - 1] != hyp[j - 1]))
    return row[len(hyp)], len(ref)


def wer(pairs) -> float:
    """Corpus word error rate over (reference, hypothesis) pairs."""
    errors = total = 0
    for reference, hypothesis in pairs:
        e, n = word_errors(reference, hypothesis)
        errors, total = errors + e, total + n
    return errors / max(1, total)
