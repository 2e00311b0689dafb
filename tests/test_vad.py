"""VAD, endpointer and barge-in on synthesized speech, silence and line noise (real webrtcvad, real voices)."""
from __future__ import annotations

import pytest

from tests.audio_helpers import espeak_speech, mix, noise, piper_speech, scale, silence, telephone, to_rate
from voice.vad import (BargeInDetector, Endpointer, EndpointerSettings, EventKind, Vad, VadSettings,
                       level_dbfs)


def _events(endpointer: Endpointer, audio: bytes):
    return [e for e in (endpointer.feed(f) for f in endpointer.vad.frames(audio)) if e is not None]


def _question(rate: int) -> bytes:
    pcm, source_rate = piper_speech("I would like to book an appointment.")
    return to_rate(telephone(pcm, source_rate), 8000, rate)


def test_vad_checks_its_input():
    with pytest.raises(ValueError, match="sample rate"):
        Vad(11025)
    with pytest.raises(ValueError, match="10, 20 or 30 ms"):
        Vad(8000, 25)
    vad = Vad(8000, 20)
    with pytest.raises(ValueError, match="320 bytes"):
        vad.is_speech(b"\x00" * 100)


def test_vad_tells_speech_from_silence_and_line_noise():
    vad = Vad(8000, 20, VadSettings(aggressiveness=2))
    speech = telephone(*piper_speech("Do you accept dental insurance?"))
    voiced = [vad.is_speech(f) for f in vad.frames(speech)]
    assert sum(voiced) / len(voiced) > 0.5
    assert not any(vad.is_speech(f) for f in vad.frames(silence(1000)))
    assert not any(vad.is_speech(f) for f in vad.frames(noise(1000, dbfs=-60)))
    assert level_dbfs(silence(20)) == -120.0
    assert -25 < level_dbfs(noise(200, dbfs=-20)) < -15


@pytest.mark.parametrize("rate", [8000, 16000])
def test_endpointer_finds_start_and_end_of_turn(rate):
    speech = _question(rate)
    audio = silence(1000, rate) + speech + silence(1500, rate)
    settings = EndpointerSettings(end_silence_ms=600, min_speech_ms=200)
    events = _events(Endpointer(Vad(rate, 20), settings), audio)
    kinds = [e.kind for e in events]
    assert kinds == [EventKind.SPEECH_START, EventKind.END_OF_TURN]
    start, end = events
    speech_ms = len(speech) * 1000 // (2 * rate)
    assert 1000 <= start.at_ms <= 1300
    assert len(start.audio) >= rate * 2 * 300 // 1000  # pre-roll handed over with the start
    # End of turn comes end_silence_ms after the speech stops (the voice's own trailing quiet counts as silence).
    assert 1000 + speech_ms + 300 <= end.at_ms <= 1000 + speech_ms + 600 + 100
    assert end.reason == "silence" and end.speech_ms >= 600


def test_endpointer_silence_setting_is_honoured():
    speech = _question(8000)
    audio = silence(500) + speech + silence(2500)
    short = _events(Endpointer(Vad(8000, 20), EndpointerSettings(end_silence_ms=400)), audio)[-1]
    long = _events(Endpointer(Vad(8000, 20), EndpointerSettings(end_silence_ms=1200)), audio)[-1]
    assert short.kind is long.kind is EventKind.END_OF_TURN
    assert 700 <= long.at_ms - short.at_ms <= 900


def test_short_burst_is_noise_and_long_speech_is_cut():
    burst = telephone(*espeak_speech("hm"))[: 8000 * 2 * 150 // 1000]
    events = _events(Endpointer(Vad(8000, 20), EndpointerSettings(min_speech_ms=300)),
                     silence(500) + burst + silence(1000))
    assert [e.kind for e in events] == [EventKind.SPEECH_START, EventKind.NOISE]

    talk = b"".join([_question(8000)] * 4)
    events = _events(Endpointer(Vad(8000, 20), EndpointerSettings(max_utterance_ms=3000, end_silence_ms=800)),
                     talk)
    assert events[1].kind is EventKind.END_OF_TURN and events[1].reason == "max_utterance"
    assert events[1].at_ms - events[0].at_ms <= 3000


def test_no_input_is_reported_while_waiting():
    endpointer = Endpointer(Vad(8000, 20), EndpointerSettings(no_input_ms=1000))
    events = _events(endpointer, silence(2500))
    assert [(e.kind, e.at_ms) for e in events] == [(EventKind.NO_INPUT, 1000), (EventKind.NO_INPUT, 2000)]


def _onset_ms(pcm: bytes, rate: int = 8000) -> int:
    """First 20 ms frame of clearly audible speech."""
    step = rate * 2 // 50
    for i in range(0, len(pcm), step):
        if level_dbfs(pcm[i:i + step]) > -40:
            return i // step * 20
    raise AssertionError("no speech in the signal")


def _feed_call(detector: BargeInDetector, received: bytes, played: bytes) -> int | None:
    step = 320
    for i in range(0, len(received) - step + 1, step):
        frame = played[i:i + step] if i < len(played) else None
        if detector.feed(received[i:i + step], frame if frame and len(frame) == step else None):
            return detector.now_ms
    return None


def test_our_own_prompt_echo_does_not_interrupt():
    prompt = telephone(*piper_speech("Thank you for calling Bright Smile Dental. How can I help you today?"))
    echo = silence(100) + scale(prompt, -20)  # line echo: 20 dB down, 100 ms late
    assert _feed_call(BargeInDetector(8000), echo + silence(500), prompt) is None


def test_caller_speech_over_the_prompt_interrupts_within_200_ms():
    prompt = telephone(*piper_speech("Thank you for calling Bright Smile Dental. How can I help you today?"))
    caller = telephone(*espeak_speech("I need an appointment"))
    caller_at = 1500
    received = mix(silence(100) + scale(prompt, -20), silence(caller_at) + caller)
    fired = _feed_call(BargeInDetector(8000), received, prompt)
    onset = caller_at + _onset_ms(caller)
    assert fired is not None
    assert onset < fired <= onset + 200


def test_barge_in_detector_resets_for_the_next_prompt():
    detector = BargeInDetector(8000)
    caller = telephone(*espeak_speech("hello there"))
    assert _feed_call(detector, caller, b"") is not None
    assert _feed_call(detector, caller, b"") is None  # fires once per prompt
    detector.reset()
    assert _feed_call(detector, caller, b"") is not None
