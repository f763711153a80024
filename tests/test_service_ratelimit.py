"""``cdq.service.ratelimit.MovingWindow``: the moving-window rule of the ``limits`` library, without its timer threads."""

from __future__ import annotations

import threading

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from cdq.service.ratelimit import MovingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_hit_is_allowed_while_fewer_than_limit_hits_are_in_the_window():
    clock = Clock()
    window = MovingWindow(3, 10.0, clock)
    decisions = []
    for t in (0, 1, 2, 3, 9.9, 10.0, 10.5, 11.5, 11.6, 12.5):
        clock.now = 1000.0 + t
        decisions.append(window.hit("key:a"))
    # 10.0: the hit at 0 is exactly at the window's start and still counts; 10.5: it has left
    assert decisions == [True, True, True, False, False, False, True, True, False, True]


def test_keys_are_counted_apart_and_idle_keys_are_forgotten():
    clock = Clock()
    window = MovingWindow(1, 60.0, clock)
    assert [window.hit("key:a"), window.hit("key:b"), window.hit("key:a")] == [True, True, False]
    clock.now += 61
    assert window.hit("key:c")  # the first hit after a window sweeps the keys with no hit left in it
    assert set(window._hits) == {"key:c"}
    assert window.hit("key:a")


def test_the_same_decisions_as_the_limits_librarys_moving_window():
    ours = MovingWindow.parse("5/minute")
    theirs = MovingWindowRateLimiter(MemoryStorage())
    item = parse("5/minute")
    whos = ["key:a", "key:b", "key:a", "ip:127.0.0.1"] * 4
    assert [ours.hit(w) for w in whos] == [theirs.hit(item, w) for w in whos]


def test_concurrent_hits_never_exceed_the_limit():
    window = MovingWindow.parse("100/minute")
    allowed = []
    start = threading.Barrier(8)

    def client() -> None:
        start.wait()
        allowed.append(sum(window.hit("key:shared") for _ in range(50)))

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 100
