#!/usr/bin/env python3
"""GraphQL over WebSocket server: strawberry-graphql ASGI app + uvicorn.

Usage: python graphql_ws_server.py [--keep-alive S] [--only PROTO]
Listens on 127.0.0.1, port 0; the FIRST stdout line is the port alone.
Endpoint: ws://127.0.0.1:PORT/graphql   (HTTP POST /graphql for queries too)

Speaks BOTH WebSocket subprotocols, chosen by Sec-WebSocket-Protocol:
  graphql-transport-ws  (modern, "graphql-ws" npm library's protocol):
      connection_init / connection_ack / subscribe / next / complete / ping / pong
  graphql-ws            (legacy Apollo subscriptions-transport-ws):
      connection_init / connection_ack / start / data / complete / stop / ka
  --only graphql-transport-ws|graphql-ws  restricts to one of them.

Schema:
  query        { hello }                         -> "world"
  subscription { counter(to: 10, intervalMs: 100) }  yields 0..to-1, one per
               intervalMs, then the server sends "complete".
Several subscriptions (distinct ids) can run concurrently on one socket.
--keep-alive S  legacy protocol only: send "ka" every S seconds (off by default).
"""
import argparse
import asyncio
import socket
from datetime import timedelta
from typing import AsyncGenerator

import strawberry
import uvicorn
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def counter(self, to: int = 10, interval_ms: int = 100) -> AsyncGenerator[int, None]:
        for i in range(to):
            yield i
            await asyncio.sleep(interval_ms / 1000)


schema = strawberry.Schema(query=Query, subscription=Subscription)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep-alive", type=float, default=0)
    ap.add_argument("--only", choices=[GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL])
    a = ap.parse_args()
    protocols = (a.only,) if a.only else (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL)
    app = GraphQL(schema, subscription_protocols=protocols,
                  keep_alive=a.keep_alive > 0, keep_alive_interval=a.keep_alive or 1,
                  connection_init_wait_timeout=timedelta(seconds=10))

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # before printing the port, so early clients queue
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
