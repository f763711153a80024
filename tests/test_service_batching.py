"""``cdq.service.batching.Batcher``: concurrent requests scored together, each getting its own answer."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cdq.service.batching import Batcher


def test_requests_arriving_together_share_calls_and_get_their_own_answers():
    sizes: list[int] = []

    def slow_square(items: list[int]) -> list[int]:
        sizes.append(len(items))
        time.sleep(0.05)  # a call takes long enough for the others to queue behind it
        return [x * x for x in items]

    batcher = Batcher(slow_square)
    start = threading.Barrier(8)

    def one(x: int) -> int:
        start.wait()
        return batcher(x)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(8)))
    assert answers == [x * x for x in range(8)]
    assert batcher.items == 8 and batcher.calls == len(sizes) < 8 and max(sizes) > 1


def test_a_lone_request_is_answered_at_once():
    batcher = Batcher(lambda items: [x + 1 for x in items], gather=5.0)  # a gather wait would show
    started = time.monotonic()
    assert batcher(1) == 2
    assert time.monotonic() - started < 1.0 and batcher.calls == 1


def test_an_error_reaches_every_request_of_its_call_and_the_next_call_works():
    def fail_on_13(items: list[int]) -> list[int]:
        time.sleep(0.02)
        if 13 in items:
            raise ValueError("unlucky")
        return items

    batcher = Batcher(fail_on_13)
    with pytest.raises(ValueError, match="unlucky"):
        batcher(13)
    assert batcher(7) == 7


def test_the_limit_per_call_holds():
    sizes: list[int] = []

    def record(items: list[int]) -> list[int]:
        sizes.append(len(items))
        time.sleep(0.02)
        return items

    batcher = Batcher(record, max_batch=3)
    with ThreadPoolExecutor(10) as pool:
        assert list(pool.map(batcher, range(10))) == list(range(10))
    assert max(sizes) <= 3 and sum(sizes) == 10
