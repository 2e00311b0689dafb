"""Voice agent benchmark: response latency on the wire at 1, 4 and 8 concurrent calls, capacity, memory.

The agent is the real ``callbox voice`` process (its own interpreter) on a fresh demo data directory; the callers
are SIP phones in this process (``tests.voice_caller``) that ask the demo assistant questions in Piper's voice
through G.711 and time every RTP packet. Response latency = first RTP packet of the reply minus the end of the
caller's speech (the last frame above -45 dBFS). Beside it: the agent's own engine times for the same turns
(endpointing silence + ASR final + TTS first chunk) from the ``turn`` events. Each call ends with a barge-in:
the caller talks over a reply, timed from its first voiced frame to the agent's last packet of the reply.
Capacity: the most calls with p95 under 1 s, no send underruns and no failed call. Every loop is bounded.

    .venv/bin/python bench/voice.py                 # 1, 4, 8 calls, 3 questions each, then capacity 10 and 12
    .venv/bin/python bench/voice.py --levels 1 4 --turns 2 --capacity
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from appliance.brain_demo import DEMO_NUMBER  # noqa: E402
from appliance.cli import main as callbox  # noqa: E402
from appliance.config import load_config  # noqa: E402
from appliance.datadir import open_database  # noqa: E402
from data.calls import Call as CallRecord, CallEvent  # noqa: E402
from data.db import database  # noqa: E402
from tests.processes import start_callbox, stop, wait_until  # noqa: E402
from tests.sipp.runner import free_udp_port  # noqa: E402
from tests.voice_caller import SPEECH_DBFS, Caller, level_dbfs  # noqa: E402
from tests.voice_env import answer_always  # noqa: E402

QUESTIONS = ("What are your opening hours?", "Are you open on weekends?", "Do you take new patients?")


def rss_kb(pid: int) -> int:
    """Resident memory of a process (kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Questions:
    """The questions as 8 kHz PCM, with how much quiet ends each (speech end = last frame sent minus it)."""

    def __init__(self, config):
        from voice.media.resample import resample
        from voice.tts import make_tts

        voice = make_tts(config)
        self.items = []
        for text in QUESTIONS:
            pcm, rate = voice.synthesize(text)
            pcm8 = bytes(3200) + resample(pcm, rate, 8000)
            frames = [pcm8[i:i + 320] for i in range(0, len(pcm8) - 319, 320)]
            voiced = [i for i, f in enumerate(frames) if level_dbfs(f) >= SPEECH_DBFS]
            self.items.append((pcm8, (len(frames) - 1 - voiced[-1]) * 0.02))
        pcm, rate = voice.synthesize("Sorry, stop, I have another question.")
        speech = resample(pcm, rate, 8000)
        frames = [speech[i:i + 320] for i in range(0, len(speech) - 319, 320)]
        first = next(i for i, f in enumerate(frames) if level_dbfs(f) >= SPEECH_DBFS)
        self.barge = bytes(1600) + speech
        self.lead = 0.1 + first * 0.02


def one_call(caller: Caller, port: int, questions: Questions, turns: int, out: list, errors: list) -> None:
    """Call, wait out the greeting, then ask ``turns`` questions, timing each reply on the wire."""
    try:
        call = caller.call(DEMO_NUMBER, port, timeout=15)
        probe = call.media
        if probe.wait_speech_end(0.0, 30, quiet=0.8) is None:
            raise RuntimeError("no greeting")
        for n in range(turns):
            pcm, quiet_tail = questions.items[n % len(questions.items)]
            count = len(probe.sent_speech)
            probe.play(pcm)
            wait_until(lambda: len(probe.sent_speech) > count, 20, 0.01, "the question to be sent")
            speech_end = probe.sent_speech[-1][1] - quiet_tail
            span = probe.wait_speech_end(speech_end, 30, quiet=1.0)
            if span is None:
                raise RuntimeError("no reply")
            out.append({"sip": call.call_id, "latency": span[0] - speech_end})
        out.append({"sip": call.call_id, "barge": barge_in(probe, questions)})
        call.hangup()
    except Exception as exc:  # reported in the summary; one failed call must not stop the run
        errors.append(repr(exc))


def barge_in(probe, questions: Questions) -> float | None:
    """Ask again and talk over the reply: seconds from our first voiced frame to the agent's last packet of it."""
    pcm, _ = questions.items[0]
    count = len(probe.sent_speech)
    probe.play(pcm)
    wait_until(lambda: len(probe.sent_speech) > count, 20, 0.01, "the question to be sent")
    asked = probe.sent_speech[-1][1]
    wait_until(lambda: probe.speech_spans(asked), 10, 0.01, "the reply to start")
    reply_start = probe.speech_spans(asked)[0][0]
    time.sleep(max(0.0, reply_start + 0.8 - time.monotonic()))
    spoke = time.monotonic() + questions.lead  # the first voiced frame goes out after the lead-in silence
    probe.play(questions.barge)
    time.sleep(1.5)
    span = probe.speech_spans(reply_start, gap=0.3)[0]
    return span[1] - spoke if span[1] >= spoke else None  # None: the reply had ended before we spoke


def engine_times(sip_ids: set[str]) -> tuple[list[dict], list[dict]]:
    """The agent's ``turn`` and ``media`` events of these calls."""
    with database.connection_context():
        ids = [r.id for r in CallRecord.select(CallRecord.id).where(CallRecord.sip_call_id.in_(list(sip_ids)))]
        rows = CallEvent.select().where(CallEvent.call.in_(ids) & CallEvent.event_type.in_(["turn", "media"]))
        turns = [r.data for r in rows if r.event_type == "turn"]
        media = [r.data for r in rows if r.event_type == "media"]
    return turns, media


def run_level(n: int, port: int, pid: int, questions: Questions, turns: int) -> dict:
    """``n`` simultaneous calls; latency figures, engine times, underruns and memory."""
    caller = Caller(rtp_port_min=42000, rtp_port_max=49998)
    results, errors, peak = [], [], [0]
    threads = [threading.Thread(target=one_call, args=(caller, port, questions, turns, results, errors))
               for _ in range(n)]
    for i, thread in enumerate(threads):
        thread.start()
        time.sleep(0.15 if i < n - 1 else 0)  # calls arrive close together, not in the same millisecond
    deadline = time.monotonic() + 60 + turns * 40
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        peak[0] = max(peak[0], rss_kb(pid))
        time.sleep(0.2)
    caller.stop()
    time.sleep(2.0)  # the agent closes the records
    sip_ids = {r["sip"] for r in results}
    engine, media = engine_times(sip_ids)
    lat = [r["latency"] * 1000 for r in results if "latency" in r]
    barge = [r["barge"] * 1000 for r in results if r.get("barge") is not None]
    raw = [t["endpointMs"] + t["asrMs"] + t["ttsFirstMs"] for t in engine if "ttsFirstMs" in t]
    return {"calls": n, "turns": len(lat), "errors": errors, "p50": pct(lat, 0.5), "p95": pct(lat, 0.95),
            "raw_p50": pct(raw, 0.5), "raw_p95": pct(raw, 0.95),
            "asr_p50": pct([t["asrMs"] for t in engine], 0.5),
            "tts_p50": pct([t["ttsFirstMs"] for t in engine], 0.5),
            "barge_p50": pct(barge, 0.5), "barge_max": max(barge, default=float("nan")),
            "underruns": sum(m.get("underruns") or 0 for m in media), "rss_peak_kb": peak[0],
            "backlog_max_ms": max((m.get("pipelineBacklogMaxMs") or 0 for m in media), default=0)}


def start_agent(workdir: Path, max_calls: int, end_of_turn_ms: int | None = None):
    """A demo data directory and the ``callbox voice`` process serving it; returns (config, proc, port)."""
    data = workdir / "data"
    assert callbox(["init", "--data-dir", str(data), "--demo"]) == 0
    config = load_config(data)
    open_database(config)
    answer_always(config)
    port = free_udp_port()
    env = {"CALLBOX_VOICE_SIP_HOST": "127.0.0.1", "CALLBOX_VOICE_MAX_CALLS": str(max_calls),
           "CALLBOX_VOICE_RTP_PORT_MIN": "32000", "CALLBOX_VOICE_RTP_PORT_MAX": "33998",
           "CALLBOX_LOG_LEVEL": "WARNING"}
    if end_of_turn_ms:
        env["CALLBOX_VOICE_END_OF_TURN_MS"] = str(end_of_turn_ms)
    proc = start_callbox(["voice", "--data-dir", str(data), "--sip-port", str(port)], workdir / "voice.log", env)
    wait_until(lambda: _beat(), 90, 0.2, "the voice agent's heartbeat")
    return config, proc, port


def _beat():
    from data.models import Heartbeat

    with database.connection_context():
        return Heartbeat.get_or_none(Heartbeat.component == "voice")


def report(rows: list[dict], idle_kb: int) -> str:
    """The results as a text table."""
    head = (f"{'calls':>5} {'turns':>5} {'p50 ms':>7} {'p95 ms':>7} {'raw p50':>8} {'raw p95':>8} {'asr p50':>8} "
            f"{'tts1 p50':>8} {'barge p50':>9} {'barge max':>9} {'underruns':>9} {'lag ms':>6} {'RSS MB':>7} "
            f"{'MB/call':>7} errors")
    lines = [head]
    for r in rows:
        per_call = (r["rss_peak_kb"] - idle_kb) / 1024 / r["calls"]
        lines.append(f"{r['calls']:>5} {r['turns']:>5} {r['p50']:>7.0f} {r['p95']:>7.0f} {r['raw_p50']:>8.0f} "
                     f"{r['raw_p95']:>8.0f} {r['asr_p50']:>8.0f} {r['tts_p50']:>8.0f} {r['barge_p50']:>9.0f} "
                     f"{r['barge_max']:>9.0f} {r['underruns']:>9} {r['backlog_max_ms']:>6} "
                     f"{r['rss_peak_kb'] / 1024:>7.0f} {per_call:>7.1f} {len(r['errors'])}")
    lines.append(f"idle RSS with models loaded: {idle_kb / 1024:.0f} MB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4, 8], help="concurrent calls per round")
    parser.add_argument("--turns", type=int, default=3, help="questions per call")
    parser.add_argument("--capacity", type=int, nargs="*", default=[10, 12],
                        help="extra levels for the capacity search (p95 < 1 s and no underruns)")
    parser.add_argument("--end-of-turn-ms", type=int, help="endpointing silence (default: the config's, 500)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="callbox-bench-voice-") as tmp:
        config, proc, port = start_agent(Path(tmp), max(args.levels + (args.capacity or [0])) + 2,
                                         args.end_of_turn_ms)
        try:
            questions = Questions(config)
            time.sleep(2.0)
            idle = rss_kb(proc.pid)
            rows = []
            for level in args.levels + (args.capacity or []):
                rows.append(run_level(level, port, proc.pid, questions, args.turns))
                print(report(rows[-1:], idle).splitlines()[1], flush=True)
            ok = [r["calls"] for r in rows if r["p95"] < 1000 and r["underruns"] == 0 and not r["errors"]]
            print(report(rows, idle))
            print(f"capacity (p95 < 1 s, no underruns, no errors): {max(ok) if ok else 0} calls")
            if args.json:
                Path(args.json).write_text(json.dumps({"idle_kb": idle, "rows": rows}, indent=2))
        finally:
            stop(proc, timeout=30)
            database.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
