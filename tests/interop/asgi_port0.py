#!/usr/bin/env python3
"""Serve any ASGI app on 127.0.0.1 port 0 and print the port first.

Usage: python asgi_port0.py MODULE:ATTR [--factory] [--ws wsproto|websockets|auto]

e.g.   python asgi_port0.py fakellm.server:app
       python asgi_port0.py stubllm.server:create_app --factory  (ATTR() is the app)
The FIRST stdout line is the port alone (flushed).  uvicorn itself only logs
"Uvicorn running on ..." to stderr, so we bind the socket ourselves and pass
it to Server.serve(sockets=[...]).  Runs until SIGTERM/SIGINT.
"""
import argparse
import asyncio
import importlib
import socket
import sys

import uvicorn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("app")
    ap.add_argument("--ws", default="auto")
    ap.add_argument("--factory", action="store_true")
    a = ap.parse_args()
    sys.path.insert(0, ".")
    mod, _, attr = a.app.partition(":")
    app = getattr(importlib.import_module(mod), attr or "app")
    if a.factory:
        app = app()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    # listen() BEFORE printing: a client connecting right after reading the
    # port is queued in the backlog instead of getting ECONNREFUSED while
    # uvicorn is still starting up.
    sock.listen(128)
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="auto", ws=a.ws)
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
