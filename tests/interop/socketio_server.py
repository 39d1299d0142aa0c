#!/usr/bin/env python3
"""Socket.IO v5 / Engine.IO v4 server: python-socketio (asyncio, ASGI) + uvicorn.

Usage: python socketio_server.py [--ping-interval S] [--ping-timeout S] [--period-ms MS]
Listens on 127.0.0.1, port 0; the FIRST stdout line is the port alone.
WebSocket URL: ws://127.0.0.1:PORT/socket.io/?EIO=4&transport=websocket
(polling also works: http://127.0.0.1:PORT/socket.io/?EIO=4&transport=polling)

Namespace "/feed":
  on connect  server emits "welcome" {"sid": ...}, then "tick" {"n": i} every
              --period-ms (default 200) while connected; every 5th tick it
              also emits the BINARY event "blob" with 8 bytes b"\\x00\\x01..\\x07"
              (on the wire: 451-/feed,["blob",{"_placeholder":true,"num":0}]
              followed by a binary WebSocket frame).
  "echo"      client event with ack: returns its args back, e.g.
              42/feed,7["echo","hi"]  ->  43/feed,7["hi"]
  "ask"       server->client event WITH ack request is sent once after
              connect: 42/feed,<id>["ask",{"q":"ping?"}]; the client's
              43/feed,<id>[...] answer is logged to stderr.
Default namespace "/" accepts connections too (no events).

Heartbeat defaults here are SMALL on purpose: pingInterval 1 s, pingTimeout
1 s (python-engineio defaults are 25 s / 20 s).  The server sends "2" every
pingInterval; a client that does not answer "3" within pingTimeout is
disconnected (the socket is closed ~2 s after the last ping sent).
"""
import argparse
import asyncio
import socket
import sys

import socketio
import uvicorn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ping-interval", type=float, default=1.0)
    ap.add_argument("--ping-timeout", type=float, default=1.0)
    ap.add_argument("--period-ms", type=float, default=200)
    a = ap.parse_args()

    sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*",
                               ping_interval=a.ping_interval,
                               ping_timeout=a.ping_timeout)
    app = socketio.ASGIApp(sio)  # serves /socket.io/ only
    tasks = {}

    async def feed(sid):
        i = 0
        while True:
            await sio.emit("tick", {"n": i}, to=sid, namespace="/feed")
            if i % 5 == 4:
                await sio.emit("blob", bytes(range(8)), to=sid, namespace="/feed")
            i += 1
            await sio.sleep(a.period_ms / 1000)

    async def on_ask_reply(*args):
        print(f"ask ack: {args}", file=sys.stderr, flush=True)

    @sio.on("connect", namespace="/feed")
    async def connect(sid, environ, auth=None):
        await sio.emit("welcome", {"sid": sid}, to=sid, namespace="/feed")
        await sio.emit("ask", {"q": "ping?"}, to=sid, namespace="/feed",
                       callback=on_ask_reply)
        tasks[sid] = asyncio.ensure_future(feed(sid))

    @sio.on("disconnect", namespace="/feed")
    async def disconnect(sid, reason=None):
        print(f"disconnect {sid} reason={reason}", file=sys.stderr, flush=True)
        t = tasks.pop(sid, None)
        if t:
            t.cancel()

    @sio.on("echo", namespace="/feed")
    async def echo(sid, *args):
        return args  # returned value becomes the ack payload

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # before printing the port, so early clients queue
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
