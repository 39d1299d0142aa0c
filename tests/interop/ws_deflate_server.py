#!/usr/bin/env python3
"""WebSocket feed server with permessage-deflate (RFC 7692), using `websockets`.

Usage:
    python ws_deflate_server.py [--count N] [--interval-ms MS] [--mode MODE]

Listens on 127.0.0.1, port 0 (OS-chosen).  The FIRST stdout line is the port
number alone, e.g. "43127", flushed immediately, so a test can read it.

Each connection (any path) gets the same feed:
    N JSON text messages: every 5th one (i = 4, 9, 14, ...) is > 1 KiB, the
    others are ~100 bytes; then the server closes with code 1000 "done".

--mode selects the permessage-deflate configuration:
    default      websockets' own default (server_max_window_bits=12,
                 client_max_window_bits=12, memLevel=5)
    no-context   server_no_context_takeover + server_max_window_bits=9
    small-window server_max_window_bits=9 (context takeover kept)
    off          compression=None: extension never negotiated

--echo: instead of the feed, every message received is sent back unchanged
(the client's compressed messages must inflate for that to work).
"""
import argparse
import asyncio
import json
import sys

from websockets.asyncio.server import serve
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory


def message(i: int) -> str:
    """~100-byte JSON message, or >1 KiB one for every 5th index."""
    msg = {"seq": i, "type": "tick", "text": "hello streamscope " * 3}
    if i % 5 == 4:
        # Repetitive payload (compresses well) plus a unique seq.
        msg["type"] = "big"
        msg["blob"] = ("lorem ipsum dolor sit amet %d " % i) * 40
    return json.dumps(msg, separators=(",", ":"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--interval-ms", type=float, default=0.0)
    ap.add_argument("--mode", default="default",
                    choices=["default", "no-context", "small-window", "off"])
    ap.add_argument("--echo", action="store_true")
    args = ap.parse_args()

    kwargs = {}
    if args.mode == "off":
        kwargs["compression"] = None
    elif args.mode == "no-context":
        # Passing our own factory via `extensions` replaces the default one
        # (enable_server_permessage_deflate only adds a factory if none exists).
        kwargs["extensions"] = [ServerPerMessageDeflateFactory(
            server_no_context_takeover=True, server_max_window_bits=9)]
    elif args.mode == "small-window":
        kwargs["extensions"] = [ServerPerMessageDeflateFactory(
            server_max_window_bits=9)]
    # mode "default": compression="deflate" is already the default.

    async def feed(ws):
        for i in range(args.count):
            await ws.send(message(i))
            if args.interval_ms:
                await asyncio.sleep(args.interval_ms / 1000)
        await ws.close(1000, "done")

    async def echo(ws):
        async for msg in ws:
            await ws.send(msg)

    async def run():
        async with serve(echo if args.echo else feed, "127.0.0.1", 0, **kwargs) as server:
            port = server.sockets[0].getsockname()[1]
            print(port, flush=True)
            await server.serve_forever()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
