"""Benchmark ``cdq serve``: /v1/address and /v1/match latency under a bounded loopback load.

Against a golden store of 1,000,000 records and a 9.8M-address synthetic reference (built once by
``serve_data.py`` into ``--workdir`` and reused), the service runs as its own process (``cdq serve``) on a
free loopback port; 8 clients (one keep-alive connection each, on one asyncio loop) send requests for 60 s per
endpoint.
Prints requests, errors, throughput and p50/p95/p99 latency per endpoint and the server's resident memory
(current and peak). Targets: /v1/address p95 < 10 ms, /v1/match p95 < 50 ms, RSS < 2 GB, no errors.

    .venv/bin/python benchmarks/bench_serve.py [--workdir /tmp/cdq-bench-serve] [--clients 8] [--seconds 60] [--workers 2]
    .venv/bin/python benchmarks/bench_serve.py --quick   # 20,000 golden, 300,000 addresses, 10 s: for iterating

The clients share the machine with the server (2 cores here): the numbers include that contention.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from serve_data import DEFAULT_WORKDIR, build_reference, build_store  # noqa: E402

from cdq.service.apikeys import create_key  # noqa: E402
from cdq.store import GoldenStore  # noqa: E402

QUICK_WORKDIR = Path("/tmp/cdq-bench-serve-quick")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory(pid: int) -> tuple[float, float, float]:
    """(VmRSS, VmHWM, Pss) in MB of the server: its process plus its worker processes, added up. RSS counts the
    pages the workers share with the parent after the fork once per process (an upper bound); PSS splits them."""
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    values = {"VmRSS": 0.0, "VmHWM": 0.0, "Pss": 0.0}
    for p in pids:
        lines = Path(f"/proc/{p}/status").read_text().splitlines() + \
            Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()
        for line in lines:
            if line.startswith(("VmRSS:", "VmHWM:", "Pss:")):
                values[line.split(":")[0]] += int(line.split()[1]) / 1024
    return values["VmRSS"], values["VmHWM"], values["Pss"]


def _address_queries(reference: Path, n: int, seed: int) -> list[str]:
    conn = sqlite3.connect(f"file:{reference}?mode=ro", uri=True)
    total = conn.execute("SELECT count(*) FROM addresses").fetchone()[0]
    step = max(1, total // n)
    rows = conn.execute(f"SELECT postcode, number FROM addresses WHERE (number * 7 + postcode) % {step} = {seed % step} "
                        f"LIMIT {n}").fetchall()
    conn.close()
    from cdq.address.keys import decode_postcodes

    codes = decode_postcodes(np.array([r[0] for r in rows], dtype=np.int64))
    return ["/v1/address?" + urlencode({"postcode": pc, "house_number": str(num)}) for pc, (_, num) in zip(codes, rows)]


def _match_bodies(path: Path) -> list[bytes]:
    frame = pd.read_parquet(path)
    out = []
    for row in frame.to_dict("records"):
        out.append(json.dumps({k: v for k, v in row.items() if v is not None and v == v and v != ""}).encode())
    return out


class Load:
    """``clients`` keep-alive connections sending requests until ``seconds`` have passed; latencies in ms.

    One asyncio loop with raw sockets and requests encoded up front: the load generator shares the two cores
    with the server, so it must cost little per request (``http.client`` in threads cost a core's fraction
    the server then lacks). Every answer is read whole (by its Content-Length); a status other than 200, a
    closed connection or a timeout counts as an error.
    """

    def __init__(self, port: int, key: str, clients: int, seconds: float):
        self.port, self.key, self.clients, self.seconds = port, key, clients, seconds

    def _request(self, method: str, item: str | bytes) -> bytes:
        head = f"Host: 127.0.0.1\r\nAuthorization: Bearer {self.key}\r\n"
        if method == "GET":
            return f"GET {item} HTTP/1.1\r\n{head}\r\n".encode()
        assert isinstance(item, bytes)
        return (f"POST /v1/match?limit=5 HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
                f"Content-Length: {len(item)}\r\n\r\n").encode() + item

    async def _client(self, i: int, requests: list[bytes], deadline: float, latencies: list[float]) -> int:
        errors, k = 0, i
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            while time.monotonic() < deadline:
                request = requests[k % len(requests)]
                k += self.clients
                started = time.perf_counter()
                try:
                    async with asyncio.timeout(30):  # not wait_for: on 3.11 that wraps each read in a new task
                        writer.write(request)
                        head = await reader.readuntil(b"\r\n\r\n")
                        length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
                        await reader.readexactly(length)
                    ok = head.startswith(b"HTTP/1.1 200 ")
                except (OSError, IndexError, ValueError, asyncio.IncompleteReadError, asyncio.TimeoutError):
                    ok = False
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                latencies.append((time.perf_counter() - started) * 1000)
                errors += 0 if ok else 1
        finally:
            writer.close()
        return errors

    async def _all(self, requests: list[bytes]) -> tuple[list[list[float]], int, float]:
        latencies: list[list[float]] = [[] for _ in range(self.clients)]
        started = time.perf_counter()
        deadline = time.monotonic() + self.seconds
        errors = await asyncio.gather(*(self._client(i, requests, deadline, latencies[i])
                                        for i in range(self.clients)))
        return latencies, sum(errors), time.perf_counter() - started

    def run(self, method: str, items: list) -> dict:
        latencies, errors, took = asyncio.run(self._all([self._request(method, item) for item in items]))
        all_ms = np.concatenate([np.asarray(x) for x in latencies]) if any(latencies) else np.array([0.0])
        return {"requests": int(len(all_ms)), "errors": int(errors), "rps": len(all_ms) / took,
                "p50": float(np.percentile(all_ms, 50)), "p95": float(np.percentile(all_ms, 95)),
                "p99": float(np.percentile(all_ms, 99))}


def _start(store: Path, reference: Path, port: int, log: Path, workers: int) -> subprocess.Popen:
    cdq = Path(sys.executable).parent / "cdq"
    # the server's log goes to a file: a pipe nobody reads would fill and stall the server
    proc = subprocess.Popen([str(cdq), "serve", "--store", f"sqlite:///{store}", "--reference", str(reference),
                             "--port", str(port), "--workers", str(workers)], stdout=log.open("w"), stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "CDQ_SERVE_RATE_LIMIT": "1000000/second"})  # measure, not throttle
    deadline = time.monotonic() + 3600  # the first start over a new store builds the match index
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"cdq serve exited: {log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(1)
    raise SystemExit("cdq serve did not become healthy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--golden", type=int, default=1_000_000)
    parser.add_argument("--addresses", type=int, default=9_800_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="cdq serve --workers (default 2: one per core)")
    parser.add_argument("--quick", action="store_true",
                        help="a small store (20,000 golden, 300,000 addresses) and 10 s per endpoint, in "
                             f"{QUICK_WORKDIR}: for iterating, not for the README")
    args = parser.parse_args()
    if args.quick:
        args.golden, args.addresses, args.seconds = 20_000, 300_000, min(args.seconds, 10.0)
        args.workdir = QUICK_WORKDIR if args.workdir == DEFAULT_WORKDIR else args.workdir
    args.workdir.mkdir(parents=True, exist_ok=True)
    reference = build_reference(args.workdir, args.addresses)
    store_path = build_store(args.workdir, args.golden)
    key = create_key(GoldenStore(f"sqlite:///{store_path}"), "bench", ["read", "match"])
    port = _port()
    started = time.perf_counter()
    proc = _start(store_path, reference, port, args.workdir / "serve.log", args.workers)
    ready = time.perf_counter() - started
    load = Load(port, key, args.clients, args.seconds)
    load_before = os.getloadavg()[0]
    results = {}
    try:
        addresses, bodies = _address_queries(reference, 20_000, 1), _match_bodies(args.workdir / "queries.parquet")
        results["/v1/address"] = load.run("GET", addresses)
        results["/v1/match"] = load.run("POST", bodies)
        single = Load(port, key, 1, min(args.seconds, 15.0))  # one client: the service time without queueing
        results["/v1/address 1 client"] = single.run("GET", addresses[::-1])
        results["/v1/match 1 client"] = single.run("POST", bodies[::-1])
        rss, peak, pss = _memory(proc.pid)
        load_after = os.getloadavg()[0]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
    with GoldenStore(f"sqlite:///{store_path}").engine.connect() as conn:
        golden = conn.exec_driver_sql("select count(*) from golden_records").scalar()
    print(f"golden records {golden:,}; reference addresses {args.addresses:,}; {args.clients} clients x "
          f"{args.seconds:.0f} s per endpoint; cdq serve --workers {args.workers}; server ready in {ready:.0f} s")
    print(f"{'endpoint':<22}{'requests':>10}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  target")
    targets = {"/v1/address": 10, "/v1/match": 50}
    for name, r in results.items():
        target = targets[name.split()[0]]
        verdict = "ok" if r["p95"] < target and not r["errors"] else "MISSED"
        print(f"{name:<22}{r['requests']:>10,}{r['errors']:>8}{r['rps']:>9.0f}{r['p50']:>9.1f}{r['p95']:>9.1f}"
              f"{r['p99']:>9.1f}  p95 < {target} ms: {verdict}")
    print(f"machine load average (1 min) {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} cores")
    print(f"server RSS {rss:,.0f} MB (peak {peak:,.0f} MB; PSS {pss:,.0f} MB), {args.workers} workers and their parent "
          f"added up; target < 2,048 MB: {'ok' if peak < 2048 else 'MISSED'}")


if __name__ == "__main__":
    main()
