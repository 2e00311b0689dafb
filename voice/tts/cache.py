"""A least-recently-used cache of synthesized audio, bounded by bytes (not entries)."""
from __future__ import annotations

import threading
from collections import OrderedDict


class AudioCache:
    """text -> PCM bytes; evicts the least recently used entries once ``max_bytes`` is exceeded."""

    def __init__(self, max_bytes: int = 16 << 20, max_entry_bytes: int = 2 << 20):
        self.max_bytes, self.max_entry_bytes = max_bytes, max_entry_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str) -> bytes | None:
        """The cached audio, refreshed as most recently used."""
        with self._lock:
            audio = self._items.get(key)
            if audio is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return audio

    def put(self, key: str, audio: bytes) -> None:
        """Keep ``audio`` unless it alone is too big to be worth caching."""
        if len(audio) > self.max_entry_bytes or self.max_bytes <= 0:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._size -= len(old) if old else 0
            self._items[key] = audio
            self._size += len(audio)
            while self._size > self.max_bytes and self._items:
                _, evicted = self._items.popitem(last=False)
                self._size -= len(evicted)

    @property
    def size_bytes(self) -> int:
        """Bytes held now."""
        return self._size

    def __len__(self) -> int:
        return len(self._items)
