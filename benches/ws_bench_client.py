#!/usr/bin/env python3
"""Benchmark WebSocket client (peer) using `websockets`, permessage-deflate on.

Usage:
    python ws_bench_client.py URL [N] [--no-compression]

Connects to URL (offers permessage-deflate by default, websockets inflates),
receives messages as fast as possible until N messages were read or the
server closes, and prints ONE line:
    count=<messages> elapsed=<seconds> bytes=<inflated payload bytes> ext=<negotiated>
Exit status 0 if N was reached (or N omitted), 1 otherwise.
"""
import argparse
import asyncio
import sys
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


async def run(url, n, compression):
    count = nbytes = 0
    async with connect(url, compression=compression, max_size=None,
                       ping_interval=None) as ws:
        ext = ws.response.headers.get("Sec-WebSocket-Extensions", "(none)")
        t0 = time.perf_counter()
        try:
            while n is None or count < n:
                msg = await ws.recv()
                count += 1
                nbytes += len(msg)
        except ConnectionClosed:
            pass
        elapsed = time.perf_counter() - t0
    print(f"count={count} elapsed={elapsed:.4f} bytes={nbytes} ext={ext}", flush=True)
    return n is None or count >= n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("n", nargs="?", type=int)
    ap.add_argument("--no-compression", action="store_true")
    a = ap.parse_args()
    ok = asyncio.run(run(a.url, a.n, None if a.no_compression else "deflate"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
