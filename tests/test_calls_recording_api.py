"""Recordings of calls over the API: multipart upload checked as WAV, safe names, streaming with HTTP Range (first
bytes, suffix, open end, outside the file → 416 in the envelope), MP3 through ffmpeg, limits and roles."""
from __future__ import annotations

import io
import shutil
import wave

import pytest

from appliance import calls
from appliance.errors import PayloadTooLarge
from data.ai import Event
from data.calls import Call
from data.db import database
from tests.conftest import assert_error

API = "/api/v1/calls"


def wav_bytes(seconds: float = 2.0, rate: int = 8000, channels: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        # a quiet sawtooth: not silence, so an encoder has something to encode
        wav.writeframes(b"".join(((n * 37) % 2000 - 1000).to_bytes(2, "little", signed=True) * channels
                                 for n in range(int(seconds * rate))))
    return buffer.getvalue()


@pytest.fixture
def setup(client, make_account):
    owner = make_account()
    manager = make_account("MANAGER", owner.org_id)
    with database.connection_context():
        call_id = calls.start_call(owner.org_id, direction="inbound", from_number="+12125550123",
                                   to_number="+12125550142")
        calls.finish_call(call_id, status="completed", ended_reason="hangup")
    return owner, manager, call_id


def upload(client, account, call_id, data: bytes, name: str = "call.wav"):
    return client.post(f"{API}/{call_id}/recording", headers=account.headers, content_type="multipart/form-data",
                       data={"recording": (io.BytesIO(data), name, "audio/wav")})


def stored_files(config) -> list:
    return sorted(p for p in config.recordings_dir.rglob("*") if p.is_file())


def test_upload_then_stream_with_ranges(client, setup, config):
    owner, manager, call_id = setup
    audio = wav_bytes(2.0)
    resp = upload(client, manager, call_id, audio, name="../../../etc/passwd.wav")
    assert resp.status_code == 201, resp.json
    data = resp.json["data"]
    assert data["recordingUrl"] == f"/api/v1/calls/{call_id}/recording" and data["format"] == "wav"
    assert (data["durationSeconds"], data["sizeBytes"]) == (2, len(audio))
    [path] = stored_files(config)
    assert path.parent.parent.parent.name == owner.org_id and path.name.startswith(f"{call_id}-")
    assert "passwd" not in str(path) and path.read_bytes() == audio

    full = client.get(f"{API}/{call_id}/recording", headers=owner.headers)
    assert full.status_code == 200 and full.data == audio and full.mimetype == "audio/wav"
    assert full.headers["Accept-Ranges"] == "bytes"
    first = client.get(f"{API}/{call_id}/recording", headers={**owner.headers, "Range": "bytes=0-99"})
    assert first.status_code == 206 and first.data == audio[:100]
    assert first.headers["Content-Range"] == f"bytes 0-99/{len(audio)}"
    suffix = client.get(f"{API}/{call_id}/recording", headers={**owner.headers, "Range": "bytes=-100"})
    assert suffix.status_code == 206 and suffix.data == audio[-100:]
    tail = client.get(f"{API}/{call_id}/recording", headers={**owner.headers, "Range": "bytes=1000-"})
    assert tail.status_code == 206 and tail.data == audio[1000:]
    beyond = f"bytes={len(audio) + 10}-"
    outside = client.get(f"{API}/{call_id}/recording", headers={**owner.headers, "Range": beyond})
    assert_error(outside, 416, "RANGE_NOT_SATISFIABLE")
    assert outside.headers["Content-Range"] == f"bytes */{len(audio)}"
    garbled = client.get(f"{API}/{call_id}/recording", headers={**owner.headers, "Range": "bytes=abc"})
    assert_error(garbled, 416, "RANGE_NOT_SATISFIABLE")
    backwards = client.get(f"{API}/{call_id}/recording", headers={**owner.headers, "Range": "bytes=500-100"})
    assert_error(backwards, 416, "RANGE_NOT_SATISFIABLE")

    detail = client.get(f"{API}/{call_id}", headers=owner.headers).json["data"]
    assert detail["recording"] == {"url": data["recordingUrl"], "format": "wav", "durationSeconds": 2,
                                   "sizeBytes": len(audio)}
    assert "recording.attached" in [e["eventType"] for e in detail["events"]]
    with database.connection_context():
        assert Event.select().where((Event.organization == owner.org_id)
                                    & (Event.event == "call.recording.available")).count() == 1


def test_a_new_upload_replaces_the_old_file(client, setup, config):
    owner, manager, call_id = setup
    assert upload(client, manager, call_id, wav_bytes(1.0)).status_code == 201
    [old] = stored_files(config)
    second = upload(client, manager, call_id, wav_bytes(3.0))
    assert second.status_code == 201 and second.json["data"]["durationSeconds"] == 3
    [new] = stored_files(config)
    assert new != old and not old.exists()


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (scripts/test installs it)")
def test_mp3_is_made_once_and_ranges_work_on_it(client, setup, config):
    owner, manager, call_id = setup
    upload(client, manager, call_id, wav_bytes(2.0))
    mp3 = client.get(f"{API}/{call_id}/recording?format=mp3", headers=owner.headers)
    assert mp3.status_code == 200 and mp3.mimetype == "audio/mpeg"
    assert mp3.data[:3] == b"ID3" or (mp3.data[0] == 0xFF and mp3.data[1] & 0xE0 == 0xE0)
    assert 0 < len(mp3.data) < len(wav_bytes(2.0)) / 4
    part = client.get(f"{API}/{call_id}/recording?format=mp3", headers={**owner.headers, "Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == mp3.data[:10]
    assert len([p for p in stored_files(config) if p.suffix == ".mp3"]) == 1


def test_mp3_without_an_encoder_is_a_clear_415(client, setup, monkeypatch):
    owner, manager, call_id = setup
    upload(client, manager, call_id, wav_bytes(1.0))
    monkeypatch.setenv("PATH", "/nonexistent")  # this box without ffmpeg
    error = assert_error(client.get(f"{API}/{call_id}/recording?format=mp3", headers=owner.headers), 415,
                         "UNSUPPORTED_MEDIA_TYPE")
    assert "format=wav" in error["message"]
    assert client.get(f"{API}/{call_id}/recording?format=wav", headers=owner.headers).status_code == 200
    assert_error(client.get(f"{API}/{call_id}/recording?format=ogg", headers=owner.headers), 422,
                 "VALIDATION_ERROR")


@pytest.mark.parametrize("data, status, code", [
    (b"hello, this is not audio at all " * 40, 415, "UNSUPPORTED_MEDIA_TYPE"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + b"\x00" * 4, 415, "UNSUPPORTED_MEDIA_TYPE"),
    (wav_bytes(2.0)[:6000], 422, "VALIDATION_ERROR"),  # truncated: the header promises 2 s
    (b"", 422, "VALIDATION_ERROR"),
    (b"ID3\x03\x00\x00\x00" + b"\x00" * 500, 415, "UNSUPPORTED_MEDIA_TYPE"),  # an MP3 is not a call recording
])
def test_bad_uploads_leave_nothing_behind(client, setup, config, data, status, code):
    owner, manager, call_id = setup
    assert_error(upload(client, manager, call_id, data), status, code)
    assert stored_files(config) == []
    with database.connection_context():
        assert Call.get_by_id(call_id).recording_path is None


def test_missing_part_roles_and_no_recording(client, setup):
    owner, manager, call_id = setup
    assert_error(client.get(f"{API}/{call_id}/recording", headers=owner.headers), 404, "NOT_FOUND")
    missing = client.post(f"{API}/{call_id}/recording", headers=manager.headers, content_type="multipart/form-data",
                          data={"other": (io.BytesIO(wav_bytes(1.0)), "a.wav")})
    assert missing.status_code == 422
    as_json = client.post(f"{API}/{call_id}/recording", headers=manager.headers, json={"recording": "x"})
    assert as_json.status_code in (415, 422)
    for role in ("AGENT", "VIEWER"):
        from tests.conftest import new_account  # noqa: PLC0415  (accounts made without HTTP)
        account = new_account(client.application, role, owner.org_id)
        assert_error(upload(client, account, call_id, wav_bytes(1.0)), 403, "FORBIDDEN")


def test_over_the_size_limit_is_413(app_with, make_account):
    app = app_with(web={"max_content_mb": 1})
    client = app.test_client()
    owner = make_account()
    with database.connection_context():
        call_id = calls.start_call(owner.org_id, direction="inbound", from_number="+12125550123",
                                   to_number="+12125550142")
    big = wav_bytes(70.0)  # 2.2 MB
    assert_error(upload(client, owner, call_id, big), 413, "PAYLOAD_TOO_LARGE")
    with database.connection_context():
        call = Call.get_by_id(call_id)
        with pytest.raises(PayloadTooLarge):  # the service's own limit, for streams without a declared length
            calls.attach_upload(call, io.BytesIO(big), max_bytes=1000, root=app.config["CALLBOX"].recordings_dir)
    assert [p for p in app.config["CALLBOX"].recordings_dir.rglob("*") if p.is_file()] == []
