"""Knowledge retrieval that survives paraphrase and recognition errors: BM25 over questions, variations and answers,
fuzzy repair of misheard words against the knowledge base's own vocabulary, and a calibrated confidence.

With a sentence-embedding model (``embedding.py``) the ranking is hybrid: a first pass adds the cosine similarity of
the turn to each item's closest phrasing to the lexical score, then its best few items are ranked again by a small
linear model over words and meaning together, whose probabilities also feed the confidence. Without the model, the
lexical ranking and its own confidence model are used unchanged.
"""
from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from rapidfuzz import fuzz, process

from voice.dialog import text as tx
from voice.dialog.repair import Repairer
from voice.dialog.types import KnowledgeItem

if TYPE_CHECKING:
    from voice.dialog.embedding import PhraseVectors, SentenceEncoder

logger = logging.getLogger(__name__)

K1, B = 1.2, 0.75
"""BM25 parameters (chosen on the dev half of the bench paraphrases)."""
ITEM_WEIGHT = 1.0
"""How much all of an item's phrasings together count beside its best single phrasing."""
ANSWER_WEIGHT = 0.3
"""How much the answer text counts beside the question and its variations."""
FUZZY_CANDIDATES = 5
SEMANTIC_WEIGHT = 2.5
"""With an embedding model, the first pass scores lexical evidence (scaled to the best item) plus this times the
cosine; its best ``RERANK`` items are then ranked again on richer evidence (``RANK_WEIGHTS``)."""
SEMANTIC_CANDIDATES = 5
RERANK = 8


@dataclass(frozen=True)
class Match:
    """One ranked knowledge item for a caller's words."""

    item: KnowledgeItem
    score: float
    confidence: float
    coverage: float
    """Share (idf-weighted) of the caller's words this item explains."""
    features: tuple[float, ...] = ()
    """The evidence behind ``confidence`` (see ``KnowledgeIndex.features``)."""


@dataclass(frozen=True)
class Query:
    """A caller's turn as the ranker sees it."""

    tokens: tuple[str, ...]
    """Stemmed content tokens after repair (synonyms not yet added)."""
    weights: tuple[float, ...]
    """How sure we are of each token: 1 heard as is, < 1 repaired, 0 unknown to the knowledge base."""
    text: str
    """Normalized text for fuzzy comparison."""


class _BM25:
    """A small BM25 over pre-tokenized documents with an inverted index."""

    def __init__(self, docs: list[list[str]]):
        self.n = max(len(docs), 1)
        self.lengths = [len(d) for d in docs]
        self.avg = (sum(self.lengths) / self.n) or 1.0
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, doc in enumerate(docs):
            counts: dict[str, int] = defaultdict(int)
            for tok in doc:
                counts[tok] += 1
            for tok, tf in counts.items():
                self.postings[tok].append((i, tf))
        self.idf = {t: math.log(1 + (self.n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}
        self.max_idf = math.log(1 + (self.n + 0.5) / 0.5)

    def scores(self, tokens: Iterable[tuple[str, float]]) -> dict[int, float]:
        """BM25 score per document for weighted query tokens."""
        out: dict[int, float] = defaultdict(float)
        for tok, weight in tokens:
            idf = self.idf.get(tok)
            if idf is None or weight <= 0:
                continue
            for doc, tf in self.postings[tok]:
                norm = tf + K1 * (1 - B + B * self.lengths[doc] / self.avg)
                out[doc] += weight * idf * tf * (K1 + 1) / norm
        return out


class KnowledgeIndex:
    """Ranks a business's knowledge items for what a caller said. Build once per knowledge base, share freely."""

    def __init__(self, items: list[KnowledgeItem], q_docs: list[tuple[int, list[str], str]],
                 a_docs: list[list[str]], vectors: "PhraseVectors | None" = None):
        self.items = items
        self.vectors = vectors
        self._q_owner = [owner for owner, _, _ in q_docs]
        self._q_tokens = [set(toks) for _, toks, _ in q_docs]
        self._q_text = [norm for _, _, norm in q_docs]
        self._a_tokens = [set(toks) for toks in a_docs]
        item_docs: list[list[str]] = [[] for _ in items]
        for owner, toks, _ in q_docs:
            item_docs[owner].extend(toks)
        self._i_tokens = [set(toks) for toks in item_docs]
        self._q = _BM25([toks for _, toks, _ in q_docs])
        self._i = _BM25(item_docs)
        self._a = _BM25(a_docs)
        vocab = set(self._q.postings) | set(self._a.postings)
        self._surface = _surface_words(items)
        surface = {w: tx.stem(w) for w in self._surface}
        # Known synonyms count as heard words, so repair never bends them into something else.
        surface.update({w: tx.stem(w) for w, canon in tx.SYNONYM_WORDS.items() if canon in vocab})
        self._repairer = Repairer(surface, vocab | set(surface.values()))
        self._by_id = {item.id: item for item in items}
        self._first = {}
        for doc, owner in enumerate(self._q_owner):
            self._first.setdefault(owner, doc)

    @classmethod
    def build(cls, items: Iterable[KnowledgeItem], encoder: "SentenceEncoder | None" = None) -> "KnowledgeIndex":
        """Index the active items (questions, variations and answers); with ``encoder``, embed the phrasings too."""
        active = [i for i in items if i.is_active and i.question.strip() and i.answer.strip()]
        q_docs, a_docs, phrases = [], [], []
        for idx, item in enumerate(active):
            for phrase in (item.question, *item.variations):
                toks = tx.content_tokens(phrase)
                q_docs.append((idx, tx.expand_synonyms(toks), " ".join(toks)))
                phrases.append(phrase)
            a_docs.append(tx.expand_synonyms(tx.content_tokens(item.answer)))
        vectors = None
        if encoder is not None:
            from voice.dialog.embedding import PhraseVectors

            vectors = PhraseVectors(encoder, phrases, [owner for owner, _, _ in q_docs], len(active))
        logger.debug("knowledge index: %d items, %d phrases, embeddings %s", len(active), len(q_docs),
                     "on" if vectors else "off")
        return cls(active, q_docs, a_docs, vectors)

    def __len__(self) -> int:
        return len(self.items)

    def get(self, item_id: str) -> KnowledgeItem | None:
        """The item with this id, if it is indexed."""
        return self._by_id.get(item_id)

    def vocabulary(self) -> tuple[str, ...]:
        """Surface words of the knowledge base, for speech-recognizer adaptation."""
        return self._surface

    def parse(self, text: str) -> Query:
        """Normalize a turn and repair words the recognizer likely misheard."""
        toks = self._repairer.tokens(text)
        stems = tuple(t.stem for t in toks)
        return Query(stems, tuple(t.weight for t in toks), " ".join(stems))

    def search(self, text: str, limit: int = 3) -> list[Match]:
        """The best items for ``text``, best first, with confidences."""
        query = self.parse(text)
        if not query.tokens or not self.items:
            return []
        lexical = self._lexical(query)
        if self.vectors is None:
            ranked = sorted(((score, owner, doc) for owner, (score, doc) in lexical.items()), key=lambda r: -r[0])
            return self._calibrate(query, ranked[: max(limit, 2)])[:limit]
        cosines = self.vectors.similarities(text)
        return self._hybrid(query, lexical, cosines)[:limit]

    def _lexical(self, query: Query) -> dict[int, tuple[float, int]]:
        """owner -> (BM25 evidence, its best phrase) for every item that shares a word or looks alike."""
        weighted = _with_synonyms(query)
        best_q: dict[int, tuple[float, int]] = {}
        for doc, score in self._q.scores(weighted).items():
            owner = self._q_owner[doc]
            if owner not in best_q or score > best_q[owner][0]:
                best_q[owner] = (score, doc)
        a_scores, i_scores = self._a.scores(weighted), self._i.scores(weighted)
        # With embeddings the closest items by meaning join the candidates instead (fuzzy string search is slower).
        near = self._fuzzy_candidates(query) if self.vectors is None else set()
        for owner in set(a_scores) | near:
            best_q.setdefault(owner, (0.0, self._first_doc(owner)))
        out = {}
        for owner, (q_score, doc) in best_q.items():
            score = q_score + ITEM_WEIGHT * i_scores.get(owner, 0.0) + ANSWER_WEIGHT * a_scores.get(owner, 0.0)
            out[owner] = (score * (1.05 if self.items[owner].is_priority else 1.0), doc)
        return out

    def candidates(self, text: str) -> list[tuple[str, tuple[float, ...]]]:
        """(item id, ``rank_features``) of the items the hybrid ranker considers for ``text`` (for fitting it)."""
        query = self.parse(text)
        if not query.tokens or not self.items or self.vectors is None:
            return []
        rows = self._candidates(query, self._lexical(query), self.vectors.similarities(text))
        return [(self.items[owner].id, evidence) for owner, _, _, _, evidence in rows]

    def _candidates(self, query: Query, lexical: dict[int, tuple[float, int]], cosines) -> list[tuple]:
        """First pass: (owner, phrase, features, lexical share, rank evidence) of the best ``RERANK`` items."""
        top = max((score for score, _ in lexical.values()), default=0.0) or 1.0
        owners = set(lexical) | {int(i) for i in cosines.argsort()[::-1][:SEMANTIC_CANDIDATES]}
        first = sorted(owners, key=lambda o: -(lexical.get(o, (0.0, 0))[0] / top
                                               + SEMANTIC_WEIGHT * max(float(cosines[o]), 0.0)))[:RERANK]
        rows = []
        for owner in first:
            score, doc = lexical.get(owner, (0.0, self._first_doc(owner)))
            base = self.features(query, owner, doc, 0.0)
            rows.append((owner, doc, base, score / top, rank_features(score / top, float(cosines[owner]), base)))
        return rows

    def _hybrid(self, query: Query, lexical: dict[int, tuple[float, int]], cosines) -> list[Match]:
        """Rank by words and meaning together, then calibrate (the features add the embedding's evidence)."""
        rows = [(sum(w * f for w, f in zip(RANK_WEIGHTS, evidence)), owner, base, lex_share)
                for owner, _, base, lex_share, evidence in self._candidates(query, lexical, cosines)]
        rows.sort(key=lambda r: -r[0])
        shares = _softmax([r[0] for r in rows])
        best_cos = float(cosines.max())
        out = []
        for rank, ((score, owner, base, lex_share), share) in enumerate(zip(rows, shares)):
            # Leads over the runner-up: in the ranker's probability, and in cosine (an item may lead in one only).
            rival_share = shares[0] if rank else (shares[1] if len(shares) > 1 else 0.0)
            own = float(cosines[owner])
            rival_cos = best_cos if own < best_cos else \
                max((float(cosines[r[1]]) for r in rows if r[1] != owner), default=0.0)
            explained = base[0] + base[1]
            feats = base[:3] + (max(share - rival_share, 0.0) * explained,) + base[4:] + \
                (own, own - rival_cos, lex_share, share)
            out.append(Match(self.items[owner], round(score, 4), round(confidence(feats), 4), round(explained, 4),
                             feats))
        return out

    def best(self, text: str) -> Match | None:
        """The single best item, or None when nothing relates at all."""
        found = self.search(text, limit=1)
        return found[0] if found else None

    def _first_doc(self, owner: int) -> int:
        return self._first[owner]

    def _fuzzy_candidates(self, query: Query) -> set[int]:
        """Items whose phrasing is close as a string, to catch what token matching misses."""
        hits = process.extract(query.text, self._q_text, scorer=fuzz.token_set_ratio, limit=FUZZY_CANDIDATES,
                               score_cutoff=60)
        return {self._q_owner[i] for _, _, i in hits}

    def _calibrate(self, query: Query, ranked: list[tuple[float, int, int]]) -> list[Match]:
        if not ranked:
            return []
        top = ranked[0][0]
        second = ranked[1][0] if len(ranked) > 1 else 0.0
        margin = (top - second) / top if top > 0 else 0.0
        out = []
        for rank, (score, owner, doc) in enumerate(ranked):
            feats = self.features(query, owner, doc, margin if rank == 0 else 0.0)
            conf = confidence(feats) if score > 0 else 0.0
            out.append(Match(self.items[owner], round(score, 4), round(conf, 4), round(feats[0] + feats[1], 4), feats))
        return out

    def features(self, query: Query, owner: int, doc: int, margin: float) -> tuple[float, ...]:
        """Evidence that ``owner`` answers ``query``: (phrase coverage, answer-only coverage, unknown share,
        margin over the runner-up times coverage, string similarity to the best phrase, single-word query)."""
        total = in_phrase = in_answer = unknown = 0.0
        phrase, answer = self._i_tokens[owner], self._a_tokens[owner]
        for tok, weight in zip(query.tokens, query.weights):
            idf = self._i.idf.get(tok, self._a.idf.get(tok, self._i.max_idf * UNKNOWN_WEIGHT))
            total += idf
            canon = tx.SYNONYMS.get(tok, tok)
            if weight <= 0:
                unknown += idf
            elif tok in phrase or canon in phrase:
                in_phrase += idf * weight * (1.0 if tok in phrase else SYNONYM_CREDIT)
            elif tok in answer or canon in answer:
                in_answer += idf * weight * (1.0 if tok in answer else SYNONYM_CREDIT)
        if not total:
            return (0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
        fuzzy = fuzz.token_sort_ratio(query.text, self._q_text[doc]) / 100.0
        explained = (in_phrase + in_answer) / total
        # A clear lead over the runner-up only means something when the item explains the words.
        return (in_phrase / total, in_answer / total, unknown / total, margin * explained, fuzzy,
                float(len(query.tokens) == 1))


UNKNOWN_WEIGHT = 0.6
"""Idf share given to a word the knowledge base never uses: it is evidence the caller asks something else."""
SYNONYM_CREDIT = 0.7
"""A word matched only through its synonym group explains less than the same word."""
CONF_WEIGHTS = (4.1, 1.53, -1.31, 2.13, 2.14, -1.66)
CONF_BIAS = -3.98
"""Logistic weights over ``KnowledgeIndex.features``, fitted on the bench's dev sets (``bench/brain.py --fit``)."""
HYBRID_CONF_WEIGHTS = (1.26, 0.62, -1.2, 1.92, 0.95, -0.58, 3.62, 3.24, -0.13, 1.66)
HYBRID_CONF_BIAS = -5.27
"""The same with an embedding model (the margin is then the ranker's) and four more features: the item's cosine, its
cosine lead over the best other candidate, its lexical score as a share of the best, and the ranker's probability."""
RANK_WEIGHTS = (2.49, 2.46, 1.32, 1.32, 2.1)
"""Linear ranker over ``rank_features``, fitted on the dev sets (``bench/brain.py --fit-ranker``, softmax over each
turn's candidates). Refit the confidence models after refitting it."""


def rank_features(lex_share: float, cosine: float, base: tuple[float, ...]) -> tuple[float, ...]:
    """What the second pass ranks on: lexical share of the best, cosine, phrase and answer coverage, and
    lexical share times phrase coverage (words that match the item's own phrasings, not just any of its words)."""
    return (lex_share, cosine, base[0], base[1], lex_share * base[0])


def _softmax(scores: list[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def confidence(features: tuple[float, ...]) -> float:
    """Map ranking evidence to a probability-like confidence that the answer is right."""
    weights, bias = (HYBRID_CONF_WEIGHTS, HYBRID_CONF_BIAS) if len(features) > len(CONF_WEIGHTS) else \
        (CONF_WEIGHTS, CONF_BIAS)
    z = bias + sum(w * f for w, f in zip(weights, features))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def _with_synonyms(query: Query) -> list[tuple[str, float]]:
    out = list(zip(query.tokens, query.weights))
    for tok, weight in zip(query.tokens, query.weights):
        canon = tx.SYNONYMS.get(tok)
        if canon and canon != tok and canon not in query.tokens:
            out.append((canon, weight * 0.8))
    return out


def _surface_words(items: list[KnowledgeItem]) -> tuple[str, ...]:
    words: set[str] = set()
    for item in items:
        for phrase in (item.question, item.answer, *item.variations):
            words.update(w for w in tx.expand_contractions(phrase).replace("-", " ").split())
    clean = {w.strip(".,;:!?\"()[]'") for w in words}
    return tuple(sorted(w for w in clean if w.isalpha()))
