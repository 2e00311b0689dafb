"""The ``[voice]`` section feeds the SIP agent and the call pipeline; ``callbox doctor`` checks the speech models."""
from __future__ import annotations

import pytest

from appliance.config import VoiceConfig, load_config
from appliance.doctor import run_checks
from appliance.errors import ConfigError
from tests.conftest import make_config
from voice.engines import first_chunk_split
from voice.service import session_settings, sip_settings


def test_voice_config_reaches_the_sip_agent_and_the_pipeline(tmp_path):
    env = {"CALLBOX_VOICE_ALLOWLIST": "10.1.0.0/16, 127.0.0.1/32", "CALLBOX_VOICE_MAX_CALLS": "3",
           "CALLBOX_VOICE_END_OF_TURN_MS": "350", "CALLBOX_VOICE_BARGE_IN": "false",
           "CALLBOX_VOICE_EXTERNAL_HOST": "203.0.113.7"}
    config = load_config(tmp_path, env=env, voice={"sip_port": 5070, "max_call_seconds": 600})
    sip = sip_settings(config.voice)
    assert sip.bind_port == 5070 and sip.max_calls == 3 and sip.external_host == "203.0.113.7"
    assert sip.allowlist == ("10.1.0.0/16", "127.0.0.1/32")
    assert sip.max_call_seconds == 630  # the SIP layer's limit backs the session's up
    pipeline = session_settings(config.voice)
    assert pipeline.end_of_turn_ms == 350 and pipeline.barge_in is False and pipeline.max_call_seconds == 600


def test_bad_voice_settings_are_refused(tmp_path):
    with pytest.raises(ConfigError):
        load_config(tmp_path, env={"CALLBOX_VOICE_MAX_CALLS": "many"})
    with pytest.raises(ValueError):
        sip_settings(VoiceConfig(allowlist="not-a-network"))


def test_doctor_reports_the_speech_models(tmp_path):
    config = make_config(tmp_path)
    lines = {c.name: c for c in run_checks(config.data_dir)}
    assert lines["speech recognition"].status == "ok" and "PocketSphinx" in lines["speech recognition"].message
    assert lines["speech synthesis"].status == "ok" and "Piper" in lines["speech synthesis"].message
    (config.data_dir / "callbox.toml").write_text('[voice]\nasr_engine = "vosk"\nlanguage = "fr"\n')
    lines = {c.name: c for c in run_checks(config.data_dir)}
    assert lines["speech recognition"].status == "FAIL" and "Vosk" in lines["speech recognition"].message
    assert lines["speech synthesis"].status == "FAIL"


def test_long_first_sentences_are_cut_at_a_comma():
    assert first_chunk_split(["We're open Monday to Friday from eight, and Saturday mornings.", "Bye."]) == [
        ("We're open Monday to Friday from eight,", False), ("and Saturday mornings.", True), ("Bye.", True)]
    assert first_chunk_split(["Hello, thanks for calling."]) == [("Hello, thanks for calling.", True)]
    assert first_chunk_split([]) == []
