"""Ids: prefixed, unique, and in creation order within a process even inside one millisecond."""
import threading

from data.base import new_id


def test_ids_sort_in_creation_order_and_are_unique():
    ids = [new_id("evt") for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("evt_") and len(i) == 26 for i in ids)


def test_ids_from_threads_are_unique():
    made: list[str] = []
    lock = threading.Lock()

    def make():
        mine = [new_id("call") for _ in range(1000)]
        with lock:
            made.extend(mine)

    threads = [threading.Thread(target=make) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(set(made)) == 4000
