"""Benchmark of the per-request database connection (not a test): ``python bench/connections.py``.

Times the same cheap request (``GET /healthz``: one ``SELECT 1``) through the
test client on a temporary SQLite database, with the connection kept for the
worker's next request (the default) and with a new connection, and its five
PRAGMAs, opened and closed around every request (``CLOSE_CONNECTION_PER_REQUEST``,
the behaviour before). Prints the median cost per request of each and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402


def per_request_ms(close_each: bool, requests: int, rounds: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
                "INSTANCE_PATH": f"{tmp}/instance",
                "CLOSE_CONNECTION_PER_REQUEST": close_each,
            }
        )
        client = app.test_client()
        client.get("/healthz")
        timings = []
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(requests):
                client.get("/healthz")
            timings.append((time.perf_counter() - start) * 1000 / requests)
        return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    kept = per_request_ms(False, args.requests, args.rounds)
    fresh = per_request_ms(True, args.requests, args.rounds)
    print(f"connection kept per worker:   {kept:.3f} ms per request")
    print(f"connection opened per request: {fresh:.3f} ms per request")
    print(f"ratio: {fresh / kept:.2f}x")


if __name__ == "__main__":
    main()
