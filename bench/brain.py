"""Benchmark of the conversation brain (voice/dialog) on the demo clinic's knowledge base.

    .venv/bin/python bench/brain.py            # accuracy (dev and held-out sets) and turn latency
    .venv/bin/python bench/brain.py --json     # the same as JSON
    .venv/bin/python bench/brain.py --lexical  # without the sentence-embedding model, even when it is installed
    .venv/bin/python bench/brain.py --fit      # refit the confidence models on the dev sets (prints the weights)

Sets: ``dev`` (first half of brain_paraphrases), ``dev2`` and ``dev3`` (brain_paraphrases_dev2/3) may be tuned on;
``held_out``
(second half of brain_paraphrases) and ``held_out_new`` (brain_paraphrases_new, written before the embedding work)
only measure. Accuracy runs every paraphrase through a fresh ``Conversation`` (so intent routing and the answer
threshold count), and also reports plain retrieval top-1. Latency pads the knowledge base to 500 items with generated
ones and times ``Conversation.handle`` against a trivial exact-match dictionary lookup, in the same run.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench" / "data")]

from brain_paraphrases import CALIBRATION_OFFTOPIC, PARAPHRASES, UNKNOWN, split  # noqa: E402
from brain_paraphrases_dev2 import dev2  # noqa: E402
from brain_paraphrases_dev3 import dev3  # noqa: E402
from brain_paraphrases_new import new_held_out  # noqa: E402

from voice.dialog import Conversation, InMemoryBooking, KnowledgeIndex, KnowledgeItem  # noqa: E402
from voice.dialog import retrieval  # noqa: E402
from voice.dialog.demo_kb import demo_items, demo_profile  # noqa: E402
from voice.dialog.embedding import shared_encoder  # noqa: E402
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


def latency(encoder=None, rounds: int = 5) -> dict:
    """Turn latency with 500 items: the engine's ``handle`` versus the exact-match lookup."""
    items = padded_items(500)
    t0 = time.perf_counter()
    index = KnowledgeIndex.build(items, encoder)
    build_ms = (time.perf_counter() - t0) * 1000
    texts = [t for phrases in PARAPHRASES.values() for t, _ in phrases] + [t for t, _ in UNKNOWN] + \
        [t for t, _, _ in new_held_out()]
    table = baseline_lookup(items)
    conversation(index).handle("warm up")
    engine, cpu, base = [], [], []
    for _ in range(rounds):
        for text in texts:
            conv = conversation(index)
            t0, c0 = time.perf_counter(), time.thread_time()
            conv.handle(text)
            engine.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
            t0 = time.perf_counter()
            table.get(_norm(text))
            base.append((time.perf_counter() - t0) * 1000)
    return {"items": len(index), "build_ms": round(build_ms, 1), "turns": len(engine),
            "engine_p50_ms": round(percentile(engine, 50), 3), "engine_p99_ms": round(percentile(engine, 99), 3),
            "engine_max_ms": round(max(engine), 3), "engine_cpu_p50_ms": round(percentile(cpu, 50), 3),
            "engine_cpu_p99_ms": round(percentile(cpu, 99), 3), "load_average": round(os.getloadavg()[0], 2),
            "baseline_p50_ms": round(percentile(base, 50), 4),
            "baseline_p99_ms": round(percentile(base, 99), 4)}


def baseline_accuracy(rows) -> float:
    """Top-1 of the exact-match baseline on the paraphrases (what retrieval buys)."""
    table = baseline_lookup(demo_items())
    known = [r for r in rows if r[1] is not None]
    return sum(table.get(_norm(t)) == e for t, e, _ in known) / max(len(known), 1)


def dev_rows() -> list[tuple[str, str | None, bool]]:
    """Every phrase that may be tuned on."""
    return split()[0] + dev2() + dev3()


def fit_ranker(encoder, lam: float = 0.01, iterations: int = 3000) -> None:
    """Fit the hybrid ranker's weights on the dev sets: softmax over each turn's candidates (numpy)."""
    import numpy as np

    index = KnowledgeIndex.build(demo_items(), encoder)
    lists = []
    for text, expected, _ in dev_rows():
        found = index.candidates(text) if expected else []
        ids = [item_id for item_id, _ in found]
        if expected in ids and len(ids) > 1:
            lists.append((np.asarray([evidence for _, evidence in found]), ids.index(expected)))
    w = np.zeros(lists[0][0].shape[1])
    for _ in range(iterations):
        grad = np.zeros_like(w)
        for x, right in lists:
            p = np.exp(x @ w - (x @ w).max())
            grad += x.T @ (p / p.sum()) - x[right]
        w -= 0.5 * (grad / len(lists) + lam * w)
    print(f"turns={len(lists)}\nRANK_WEIGHTS = {tuple(round(v, 2) for v in w.tolist())}")


def fit(encoder=None, neg_weight: float = 1.0, lam: float = 0.001, iterations: int = 6000) -> None:
    """Refit a confidence model on the dev sets, with leave-one-item-out and off-topic negatives."""
    items = demo_items()
    index = KnowledgeIndex.build(items, encoder)
    loo = {it.id: KnowledgeIndex.build([x for x in items if x.id != it.id], encoder) for it in items}
    xs, ys = [], []
    for text, expected, _ in dev_rows():
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
    weights, bias = _logistic(xs, ys, lam, iterations, neg_weight)
    prefix = "HYBRID_" if encoder is not None else ""
    print(f"samples={len(xs)} positives={int(sum(ys))}")
    print(f"{prefix}CONF_WEIGHTS = {tuple(round(w, 2) for w in weights)}\n{prefix}CONF_BIAS = {round(bias, 2)}")


def _logistic(xs, ys, lam, iterations, neg_weight=1.0):
    """L2-regularized logistic regression by gradient descent (numpy); wrong answers may weigh more than right."""
    import numpy as np

    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    sample = np.where(y > 0, 1.0, neg_weight)
    sample /= sample.mean()
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(iterations):
        err = (1 / (1 + np.exp(-(x @ w + b))) - y) * sample
        b -= err.mean()
        w -= x.T @ err / len(y) + lam * w
    return w.tolist(), b


SETS = ("dev", "dev2", "dev3", "held_out", "held_out_new", "all")


def accuracy(encoder=None) -> dict:
    """Accuracy on every set, with or without the embedding model."""
    dev, held = split()
    rows = {"dev": dev, "dev2": dev2(), "dev3": dev3(), "held_out": held, "held_out_new": new_held_out()}
    rows["all"] = [r for name in ("dev", "dev2", "dev3", "held_out", "held_out_new") for r in rows[name]]
    demo = KnowledgeIndex.build(demo_items(), encoder)
    out = {name: evaluate(demo, rows[name]) for name in SETS}
    big = KnowledgeIndex.build(padded_items(500), encoder)
    out["held_out_500_items"] = evaluate(big, [r for r in held + new_held_out() if r[1] is not None])
    return out


def report(use_embeddings: bool = True) -> dict:
    """Every figure of the benchmark: lexical only, and hybrid when the embedding model is installed."""
    encoder = shared_encoder() if use_embeddings else None
    result = {
        "paraphrases": sum(len(v) for v in PARAPHRASES.values()), "unknown": len(UNKNOWN),
        "lexical": accuracy(None), "exact_match_baseline_top1": baseline_accuracy(split()[0] + split()[1]),
        "threshold": demo_profile().transfer_confidence_threshold,
        "confidence_model": {"weights": retrieval.CONF_WEIGHTS, "bias": retrieval.CONF_BIAS},
        "embedding_model": encoder.model_id if encoder else None,
    }
    if encoder is not None:
        result["hybrid"] = accuracy(encoder)
        result["hybrid_confidence_model"] = {"weights": retrieval.HYBRID_CONF_WEIGHTS,
                                             "bias": retrieval.HYBRID_CONF_BIAS}
    result["latency_500_items"] = latency(encoder)
    return result


def _print(result: dict) -> None:
    print(f"paraphrases: {result['paraphrases']} (+{result['unknown']} unknown) in the first set, answer threshold "
          f"{result['threshold']}, embedding model: {result['embedding_model'] or 'none'}")
    for mode in ("lexical", "hybrid"):
        for name in (*SETS, "held_out_500_items"):
            if mode not in result:
                continue
            r = result[mode][name]
            print(f"{mode:>7} {name:>18}: n={r['questions']:3d} (asr {r['asr']:3d}) top1={r['top1']:.1%} "
                  f"[clean {r['top1_clean']:.1%}, asr {r['top1_asr']:.1%}] answered-correct="
                  f"{r['answered_correct']:.1%} clarify-correct={r['clarify_correct']:.1%} "
                  f"confident-wrong={r['confident_wrong']:.1%} ({r['confident_wrong_count']}) "
                  f"unknown answered={r['unknown_answered']}/{r['unknown_questions']}")
    print(f"exact-match baseline top1: {result['exact_match_baseline_top1']:.1%}")
    lat = result["latency_500_items"]
    print(f"latency ({lat['items']} items, {lat['turns']} turns, index build {lat['build_ms']} ms, load average "
          f"{lat['load_average']}): engine p50={lat['engine_p50_ms']} ms p99={lat['engine_p99_ms']} ms "
          f"max={lat['engine_max_ms']} ms (its own CPU time p50={lat['engine_cpu_p50_ms']} ms "
          f"p99={lat['engine_cpu_p99_ms']} ms); exact-match baseline p50={lat['baseline_p50_ms']} ms "
          f"p99={lat['baseline_p99_ms']} ms")


def main(argv: list[str] | None = None) -> int:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--fit", action="store_true", help="refit the confidence models on the dev sets")
    parser.add_argument("--fit-ranker", action="store_true", help="refit the hybrid ranker on the dev sets")
    parser.add_argument("--lexical", action="store_true", help="do not use the sentence-embedding model")
    parser.add_argument("--neg-weight", type=float, default=1.0, help="--fit: weight of wrong answers")
    args = parser.parse_args(argv)
    if args.fit_ranker:
        fit_ranker(shared_encoder())
        return 0
    if args.fit:
        fit(None, args.neg_weight)
        encoder = None if args.lexical else shared_encoder()
        if encoder is not None:
            fit(encoder, args.neg_weight)
        return 0
    result = report(not args.lexical)
    print(json.dumps(result, indent=2)) if args.json else _print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
