"""Whole-recording transcription on top of any engine's stream: resample, segment by VAD, decode each segment.

Segmenting first keeps the decoder off silence (faster), gives each segment its own times, and bounds the audio
one decode holds. Engines share this code so uploads and calls hear the same front end.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Iterator, Sequence

from voice.asr.base import Segment, Transcript, Word, check_pcm
from voice.media.resample import resample
from voice.vad import Endpointer, EndpointerSettings, EventKind, Vad, VadSettings

if TYPE_CHECKING:
    from voice.asr.base import AsrEngine

logger = logging.getLogger(__name__)

SEGMENTING = EndpointerSettings(start_ms=60, start_window_ms=200, end_silence_ms=500, min_speech_ms=120,
                                max_utterance_ms=25000, pre_roll_ms=300)
TAIL_PAD_MS = 200
CHUNK_MS = 200


def speech_regions(pcm16: bytes, sample_rate: int,
                   settings: EndpointerSettings = SEGMENTING) -> Iterator[tuple[int, int]]:
    """(start_ms, end_ms) of each stretch of speech in a mono 16-bit recording."""
    vad_rate = sample_rate if sample_rate in (8000, 16000, 32000, 48000) else 16000
    audio = pcm16 if vad_rate == sample_rate else resample(pcm16, sample_rate, vad_rate)
    vad = Vad(vad_rate, 20, VadSettings(aggressiveness=1, min_dbfs=-55.0))
    endpointer = Endpointer(vad, settings)
    start = None
    for frame in vad.frames(audio):
        event = endpointer.feed(frame)
        if event is None:
            continue
        if event.kind is EventKind.SPEECH_START:
            start = endpointer.turn_start_ms
        elif event.kind is EventKind.END_OF_TURN and start is not None:
            yield start, event.at_ms - settings.end_silence_ms + TAIL_PAD_MS
            start = None
        else:
            start = None
    if start is not None:
        yield start, endpointer.now_ms


def _decode_region(stream, audio: bytes, rate: int, start_ms: int, end_ms: int) -> Segment | None:
    first, last = start_ms * rate // 1000 * 2, min(len(audio), end_ms * rate // 1000 * 2)
    chunk = CHUNK_MS * rate // 1000 * 2
    for offset in range(first, last, chunk):
        stream.accept(audio[offset:min(last, offset + chunk)])
    result = stream.final()
    if not result.text:
        return None
    base = start_ms / 1000.0
    words = tuple(Word(w.text, round(base + w.start, 3), round(base + w.end, 3), w.confidence) for w in result.words)
    return Segment(round(base, 3), round(end_ms / 1000.0, 3), result.text, result.confidence, words)


def transcribe_with(engine: "AsrEngine", pcm16: bytes, sample_rate: int,
                    phrases: Sequence[str] | None = None) -> Transcript:
    """Transcribe a recording with ``engine``: the shared implementation of ``AsrEngine.transcribe``."""
    check_pcm(pcm16)
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate}")
    began = time.perf_counter()
    audio = pcm16 if sample_rate == engine.sample_rate else resample(pcm16, sample_rate, engine.sample_rate)
    stream = engine.stream(phrases)
    segments = []
    try:
        for start_ms, end_ms in speech_regions(audio, engine.sample_rate):
            segment = _decode_region(stream, audio, engine.sample_rate, start_ms, end_ms)
            if segment is not None:
                segments.append(segment)
    finally:
        stream.close()
    duration = len(pcm16) / 2 / sample_rate
    text = " ".join(s.text for s in segments)
    return Transcript(text, tuple(segments), engine.name, engine.language, round(duration, 3),
                      round(time.perf_counter() - began, 3))
