"""Recordings of calls: where the files live, checking what is attached, and MP3 copies on request.

Files live under ``<data_dir>/recordings/<org>/<yyyy>/<mm>/`` with names we generate (``<call id>-<random>.wav``);
the record stores the path relative to the recordings directory, so a data directory can move. A call recording
is a PCM WAV (the voice agent writes stereo: caller left, AI right), checked with the ``wave`` module. MP3 is made
on first request with ffmpeg when it is installed and kept beside the WAV.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from appliance.errors import PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType, ValidationError
from data.base import utcnow
from data.calls import Call

logger = logging.getLogger(__name__)

CHUNK = 1 << 16
MIMETYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}
ENCODE_TIMEOUT = 300
MP3_BITRATE = "32k"
"""Plenty for 8 kHz telephony speech; a one-hour call is about 14 MB."""
_SAFE_ID = re.compile(r"^[a-z]+_[0-9a-z]{8,40}$")


@dataclass(frozen=True)
class Recording:
    """A checked recording file."""

    relative_path: str
    format: str
    duration_seconds: int
    channels: int
    sample_rate: int
    size: int


def default_root() -> Path:
    """The recordings directory of the running process's configuration."""
    from jobs.runtime import config

    return config().recordings_dir


def _root(root: Path | None) -> Path:
    return (root or default_root()).resolve()


def resolve(relative: str, root: Path | None = None) -> Path:
    """The absolute path of a stored recording; refuses anything outside the recordings directory."""
    base = _root(root)
    path = (base / relative).resolve()
    if base not in path.parents:
        raise ValidationError("recording path is outside the recordings directory")
    return path


def new_relative_path(org_id: str, call_id: str, ext: str = "wav") -> str:
    """A fresh, unguessable name for a call's recording under ``<org>/<yyyy>/<mm>/``."""
    if not (_SAFE_ID.match(org_id) and _SAFE_ID.match(call_id)) or ext not in MIMETYPES:
        raise ValidationError("not a valid organization id, call id or recording format")
    now = utcnow()
    return f"{org_id}/{now:%Y}/{now:%m}/{call_id}-{secrets.token_hex(6)}.{ext}"


def recording_target(org_id: str, call_id: str, root: Path | None = None) -> tuple[str, Path]:
    """For the voice agent: (the name to give ``finish_call``, the absolute path to write the WAV to)."""
    relative = new_relative_path(org_id, call_id)
    path = resolve(relative, root)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return relative, path


def _frames_present(wav: wave.Wave_read) -> int:
    """Frames actually in the file, read in chunks (the header's count may promise more than is there)."""
    present = 0
    while True:
        chunk = wav.readframes(CHUNK)
        if not chunk:
            return present
        present += len(chunk) // (wav.getsampwidth() * wav.getnchannels())


def probe_wav(path: Path) -> tuple[int, int, int]:
    """(duration in whole seconds, channels, sample rate) of a PCM WAV; 415 when it is not one, 422 when cut short."""
    try:
        with wave.open(str(path), "rb") as wav:
            frames, rate, channels = wav.getnframes(), wav.getframerate(), wav.getnchannels()
            if rate <= 0 or channels <= 0 or wav.getsampwidth() <= 0:
                raise wave.Error("the header has no sample rate, channels or sample width")
            present = _frames_present(wav)
    except (wave.Error, EOFError) as exc:
        raise UnsupportedMediaType(f"The recording is not a PCM WAV file ({exc}); convert it to 16-bit PCM WAV",
                                   {"recording": [str(exc)]}) from exc
    if present < frames:
        raise ValidationError(f"The WAV file is truncated: its header announces {frames / rate:.1f} s, "
                              f"the file holds {present / rate:.1f} s", {"recording": ["truncated"]})
    return round(frames / rate), channels, rate


def _checked(path: Path, relative: str) -> Recording:
    duration, channels, rate = probe_wav(path)
    return Recording(relative, "wav", duration, channels, rate, path.stat().st_size)


def probe_stored(recording_path: str, root: Path | None = None) -> Recording:
    """Check a recording the voice agent wrote (relative name, or an absolute path inside the directory)."""
    base = _root(root)
    relative = recording_path
    if Path(recording_path).is_absolute():
        absolute = Path(recording_path).resolve()
        if base not in absolute.parents:
            raise ValidationError("recording path is outside the recordings directory")
        relative = absolute.relative_to(base).as_posix()
    path = resolve(relative, base)
    if not path.is_file():
        raise ValidationError(f"recording file {relative} does not exist")
    return _checked(path, relative)


def attach(call: Call, recording: Recording) -> str | None:
    """Point the record at a recording (not saved here); returns the replaced file's relative path, if any."""
    previous = call.recording_path if call.recording_path != recording.relative_path else None
    call.recording_path, call.recording_format = recording.relative_path, recording.format
    call.recording_duration_seconds, call.recording_size = recording.duration_seconds, recording.size
    return previous


def _copy_limited(stream: BinaryIO, handle: BinaryIO, max_bytes: int) -> int:
    written = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return written
        written += len(chunk)
        if written > max_bytes:
            raise PayloadTooLarge(f"The recording is larger than {max_bytes // (1024 * 1024)} MB")
        handle.write(chunk)


def save_upload(call: Call, stream: BinaryIO, max_bytes: int, root: Path | None = None) -> Recording:
    """Stream an uploaded recording to its place in chunks, check it, and only then give it its final name."""
    relative = new_relative_path(call.organization_id, call.id)
    target = resolve(relative, root)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_name(f".{target.name}.part")
    try:
        with open(partial, "wb") as handle:
            size = _copy_limited(stream, handle, max_bytes)
        if size == 0:
            raise ValidationError("The recording is empty", {"recording": ["empty file"]})
        with open(partial, "rb") as handle:
            head = handle.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise UnsupportedMediaType("A call recording must be a WAV file (RIFF/WAVE); this one is not",
                                       {"recording": ["not a WAV file"]})
        probe_wav(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return _checked(target, relative)


def remove(relative: str | None, root: Path | None = None) -> None:
    """Delete a recording and its MP3 copy (a file already gone is fine)."""
    if not relative:
        return
    path = resolve(relative, root)
    for candidate in (path, _mp3_path(path)):
        candidate.unlink(missing_ok=True)


# --- MP3 ---------------------------------------------------------------------------------------------------------

def mp3_encoder() -> str | None:
    """The ffmpeg executable, if this box has one."""
    return shutil.which("ffmpeg")


def _mp3_path(wav_path: Path) -> Path:
    return wav_path.with_suffix(".mp3")


def as_mp3(wav_path: Path) -> Path:
    """The MP3 copy of a WAV recording, made (once) with ffmpeg; 415 when no encoder is installed."""
    target = _mp3_path(wav_path)
    if target.is_file() and target.stat().st_mtime >= wav_path.stat().st_mtime:
        return target
    ffmpeg = mp3_encoder()
    if ffmpeg is None:
        raise UnsupportedMediaType("MP3 is not available on this box (ffmpeg is not installed); ask for format=wav",
                                   {"format": ["no MP3 encoder"]})
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    command = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav_path),
               "-codec:a", "libmp3lame", "-b:a", MP3_BITRATE, "-f", "mp3", str(partial)]
    try:
        result = subprocess.run(command, capture_output=True, timeout=ENCODE_TIMEOUT, check=False)
        if result.returncode != 0:
            logger.error("ffmpeg could not encode %s: %s", wav_path.name, result.stderr[-500:])
            raise ServiceUnavailable("The MP3 copy could not be made; ask for format=wav")
        os.replace(partial, target)
    except subprocess.TimeoutExpired as exc:
        raise ServiceUnavailable("Making the MP3 copy took too long; ask for format=wav") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target
