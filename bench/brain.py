"""Benchmark of the conversation brain (voice/dialog) on the demo clinic's knowledge base.

    .venv/bin/python bench/brain.py            # accuracy (dev and held-out halves) and turn latency
    .venv/bin/python bench/brain.py --json     # the same as JSON
    .venv/bin/python bench/brain.py --fit      # refit the confidence model on the dev half (prints the weights)

Accuracy runs every paraphrase through a fresh ``Conversation`` (so intent routing and the answer threshold count),
and also reports plain retrieval top-1. Latency pads the knowledge base to 500 items with generated ones and times
``Conversation.handle`` against a trivial exact-match dictionary lookup, in the same run.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench" / "data")]

from brain_paraphrases import CALIBRATION_OFFTOPIC, PARAPHRASES, UNKNOWN, split  # noqa: E402

from voice.dialog import Conversation, InMemoryBooking, KnowledgeIndex, KnowledgeItem  # noqa: E402
from voice.dialog import retrieval  # noqa: E402
from voice.dialog.demo_kb import demo_items, demo_profile  # noqa: E402
from voice.dialog.text import raw_tokens  # noqa: E402

CLOCK_NOW = dt.datetime(2025, 11, 26, 15, 0, tzinfo=dt.timezone.utc)
_SERVICES = ("fluoride varnish", "dental sealants", "tooth bonding", "a dental bridge", "an inlay", "an onlay",
             "periodontal maintenance", "an oral cancer screening", "gum contouring", "a frenectomy",
             "space maintainers", "a bite adjustment", "a tongue scraper kit", "a water flosser demo",
             "a smile makeover consult", "a second opinion visit", "teeth reshaping", "a TMJ evaluation",
             "a post-op check", "a desensitizing treatment", "a cosmetic consult")
_TEMPLATES = (
    ("How much does {s} cost?", "{S} costs ${p}.", ("What is the price of {s}?",)),
    ("Do you offer {s}?", "Yes, we offer {s} at the clinic.", ("Can I get {s} there?",)),
    ("How long does {s} take?", "{S} takes about {m} minutes.", ("How much time is {s}?",)),
    ("Is {s} covered by insurance?", "{S} is usually covered at {c}% by PPO plans.", ("Does insurance pay {s}?",)),
    ("Who does {s}?", "{S} is done by our hygienist team.", ("Which doctor handles {s}?",)),
    ("What should I do after {s}?", "After {s}, avoid hot drinks for {m} minutes.", ("Aftercare for {s}?",)),
    ("Is {s} painful?", "{S} is usually painless; we numb the area if needed.", ("Does {s} hurt?",)),
    ("Can children have {s}?", "Children from age {a} can have {s}.", ("Is {s} okay for kids?",)),
    ("How often do I need {s}?", "Most patients need {s} every {a} months.", ("How frequently is {s} done?",)),
    ("Can I book {s} online?", "Yes, {s} can be booked online or by phone.", ("Book {s} on the website?",)),
    ("Is there a waiting list for {s}?", "The wait for {s} is about {a} days.", ("How long is the wait for {s}?",)),
    ("Do I need a referral for {s}?", "No referral is needed for {s}.", ("Referral needed for {s}?",)),
    ("Can I eat before {s}?", "Eat lightly up to {a} hours before {s}.", ("Food before {s}?",)),
    ("What are the risks of {s}?", "{S} has very low risk; we explain it before starting.", ("Is {s} safe?",)),
    ("Is {s} available on Saturdays?", "{S} is offered on weekdays only.", ("Saturday {s}?",)),
    ("Do you finance {s}?", "{S} can be financed over {a} months.", ("Payment plan for {s}?",)),
    ("How do I prepare for {s}?", "Brush and floss before {s} and arrive {a} minutes early.", ("Prep for {s}?",)),
    ("What happens during {s}?", "During {s} the dentist examines and treats the area.", ("Steps of {s}?",)),
    ("Can I drive after {s}?", "Yes, you can drive after {s}.", ("Driving after {s}?",)),
    ("Is {s} available for seniors?", "{S} is suitable for seniors.", ("{S} for older adults?",)),
    ("Do you have a discount on {s}?", "Members get {c}% off {s}.", ("Any deals on {s}?",)),
    ("What brand do you use for {s}?", "We use a premium brand for {s}.", ("Which products for {s}?",)),
)


def padded_items(total: int = 500) -> list[KnowledgeItem]:
    """The demo items plus plausible generated ones, up to ``total``."""
    items = demo_items()
    n = 0
    for si, service in enumerate(_SERVICES):
        for ti, (q, a, vs) in enumerate(_TEMPLATES):
            if len(items) >= total:
                return items
            values = {"s": service, "S": service[0].upper() + service[1:], "p": 80 + 15 * ti + si,
                      "m": 10 + ti, "c": 50 + ti, "a": 2 + si % 9}
            items.append(KnowledgeItem(f"kb_gen_{n}", q.format(**values), a.format(**values),
                                       tuple(v.format(**values) for v in vs), "generated"))
            n += 1
    return items


def conversation(index: KnowledgeIndex) -> Conversation:
    """A fresh conversation, past its greeting, on the fixed bench clock."""
    conv = Conversation(demo_profile(), index, InMemoryBooking(lambda: CLOCK_NOW), lambda: CLOCK_NOW,
                        caller_phone="+15550000000")
    conv.greet()
    return conv


def evaluate(index: KnowledgeIndex, rows: list[tuple[str, str | None, bool]]) -> dict:
    """Accuracy figures for (text, expected id or None, is_asr) rows."""
    known = [r for r in rows if r[1] is not None]
    unknown = [r for r in rows if r[1] is None]
    out = {"questions": len(known), "asr": sum(r[2] for r in known)}
    top1 = answered = clarified = wrong = 0
    for text, expected, _ in known:
        best = index.best(text)
        top1 += best is not None and best.item.id == expected
        reply = conversation(index).handle(text)
        answered += reply.action == "answer" and reply.knowledge_id == expected
        clarified += reply.action == "clarify" and reply.knowledge_id == expected
        wrong += reply.action == "answer" and reply.knowledge_id not in (None, expected)
    n = max(len(known), 1)
    out.update(top1=top1 / n, answered_correct=answered / n, clarify_correct=clarified / n,
               confident_wrong=wrong / n, confident_wrong_count=wrong)
    for label, flag in (("top1_clean", False), ("top1_asr", True)):
        part = [r for r in known if r[2] == flag]
        out[label] = sum(1 for t, e, _ in part if (b := index.best(t)) and b.item.id == e) / max(len(part), 1)
    false_answers = sum(1 for t, _, _ in unknown if conversation(index).handle(t).knowledge_id is not None
                        and conversation(index).handle(t).action == "answer")
    out.update(unknown_questions=len(unknown), unknown_answered=false_answers)
    return out


def _norm(text: str) -> str:
    return " ".join(raw_tokens(text))


def baseline_lookup(items: list[KnowledgeItem]) -> dict[str, str]:
    """The trivial baseline: exact match of the normalized question or a variation."""
    table = {}
    for item in items:
        for phrase in (item.question, *item.variations):
            table[_norm(phrase)] = item.id
    return table


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def latency(rounds: int = 5) -> dict:
    """Turn latency with 500 items: the engine's ``handle`` versus the exact-match lookup."""
    items = padded_items(500)
    t0 = time.perf_counter()
    index = KnowledgeIndex.build(items)
    build_ms = (time.perf_counter() - t0) * 1000
    texts = [t for phrases in PARAPHRASES.values() for t, _ in phrases] + [t for t, _ in UNKNOWN]
    table = baseline_lookup(items)
    conversation(index).handle("warm up")
    engine, base = [], []
    for _ in range(rounds):
        for text in texts:
            conv = conversation(index)
            t0 = time.perf_counter()
            conv.handle(text)
            engine.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            table.get(_norm(text))
            base.append((time.perf_counter() - t0) * 1000)
    return {"items": len(index), "build_ms": round(build_ms, 1), "turns": len(engine),
            "engine_p50_ms": round(percentile(engine, 50), 3), "engine_p99_ms": round(percentile(engine, 99), 3),
            "engine_max_ms": round(max(engine), 3), "baseline_p50_ms": round(percentile(base, 50), 4),
            "baseline_p99_ms": round(percentile(base, 99), 4)}


def baseline_accuracy(rows) -> float:
    """Top-1 of the exact-match baseline on the paraphrases (what retrieval buys)."""
    table = baseline_lookup(demo_items())
    known = [r for r in rows if r[1] is not None]
    return sum(table.get(_norm(t)) == e for t, e, _ in known) / max(len(known), 1)


def fit(lam: float = 0.001, iterations: int = 6000) -> None:
    """Refit the confidence model on the dev half, with leave-one-item-out and off-topic negatives."""
    items = demo_items()
    index = KnowledgeIndex.build(items)
    loo = {it.id: KnowledgeIndex.build([x for x in items if x.id != it.id]) for it in items}
    xs, ys = [], []
    for text, expected, _ in split()[0]:
        for idx, positive_possible in ((index, True), (loo.get(expected), False)):
            match = idx.best(text) if idx is not None else None
            if match is not None:
                xs.append(match.features)
                ys.append(1.0 if positive_possible and match.item.id == expected else 0.0)
    for text in CALIBRATION_OFFTOPIC:
        match = index.best(text)
        if match is not None:
            xs.append(match.features)
            ys.append(0.0)
    weights, bias = _logistic(xs, ys, lam, iterations)
    print(f"samples={len(xs)} positives={int(sum(ys))}")
    print(f"CONF_WEIGHTS = {tuple(round(w, 2) for w in weights)}\nCONF_BIAS = {round(bias, 2)}")


def _logistic(xs, ys, lam, iterations):
    n, d = len(xs), len(xs[0])
    w, b = [0.0] * d, 0.0
    for _ in range(iterations):
        gw, gb = [0.0] * d, 0.0
        for x, y in zip(xs, ys):
            err = 1 / (1 + math.exp(-(b + sum(a * c for a, c in zip(w, x))))) - y
            gb += err
            for j in range(d):
                gw[j] += err * x[j]
        b -= gb / n
        w = [wj - (gj / n + lam * wj) for wj, gj in zip(w, gw)]
    return w, b


def report() -> dict:
    """Every figure of the benchmark."""
    dev, held = split()
    demo = KnowledgeIndex.build(demo_items())
    big = KnowledgeIndex.build(padded_items(500))
    return {
        "paraphrases": sum(len(v) for v in PARAPHRASES.values()), "unknown": len(UNKNOWN),
        "dev": evaluate(demo, dev), "held_out": evaluate(demo, held), "all": evaluate(demo, dev + held),
        "held_out_500_items": evaluate(big, [r for r in held if r[1] is not None]),
        "exact_match_baseline_top1": baseline_accuracy(dev + held),
        "latency_500_items": latency(), "threshold": demo_profile().transfer_confidence_threshold,
        "confidence_model": {"weights": retrieval.CONF_WEIGHTS, "bias": retrieval.CONF_BIAS},
    }


def _print(result: dict) -> None:
    print(f"paraphrases: {result['paraphrases']} (+{result['unknown']} unknown), answer threshold "
          f"{result['threshold']}")
    for name in ("dev", "held_out", "all", "held_out_500_items"):
        r = result[name]
        print(f"{name:>20}: n={r['questions']:3d} (asr {r['asr']:3d}) top1={r['top1']:.1%} "
              f"[clean {r['top1_clean']:.1%}, asr {r['top1_asr']:.1%}] answered-correct={r['answered_correct']:.1%} "
              f"clarify-correct={r['clarify_correct']:.1%} confident-wrong={r['confident_wrong']:.1%} "
              f"unknown answered={r['unknown_answered']}/{r['unknown_questions']}")
    print(f"exact-match baseline top1: {result['exact_match_baseline_top1']:.1%}")
    lat = result["latency_500_items"]
    print(f"latency ({lat['items']} items, {lat['turns']} turns, index build {lat['build_ms']} ms): engine "
          f"p50={lat['engine_p50_ms']} ms p99={lat['engine_p99_ms']} ms max={lat['engine_max_ms']} ms; exact-match "
          f"baseline p50={lat['baseline_p50_ms']} ms p99={lat['baseline_p99_ms']} ms")


def main(argv: list[str] | None = None) -> int:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--fit", action="store_true", help="refit the confidence model on the dev half")
    args = parser.parse_args(argv)
    if args.fit:
        fit()
        return 0
    result = report()
    print(json.dumps(result, indent=2)) if args.json else _print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
