#!/usr/bin/env python3
"""The neutral firehose: SSE, JSON-lines and WebSocket bodies from precomputed bytes, shared with no
streamscope code.

Usage:
    python3 benches/neutral/server.py

Listens on 127.0.0.1, port 0 (OS-chosen); the FIRST stdout line is the port number alone, flushed at
once (the convention of tests/interop/). Standard library only. Runs until killed.

    GET /sse?shape=SHAPE&n=N&size=S&ids=0|1     Server-Sent Events
    GET /jsonl?n=N&size=S                       JSON lines (application/x-ndjson), body until close
    GET /ws?n=N&size=S                          WebSocket (RFC 6455 handshake, then frames)

Every payload is a JSON object of exactly S bytes (S >= 80), the shape of a market feed, e.g.
    {"seq":1,"type":"trade","sym":"BTC-USD","side":"buy","qty":1,"pad":"xxxx...xxxx"}
with seq counting 1..N; 14 quotes per payload, which a JSON-lines writer has to escape.

SSE events are `id: <seq>\\n` (when ids=1) + `data: <payload>\\n\\n`. SHAPE is the body's framing:
    close        no Content-Length, no chunking: the body ends when the server closes (HTTP/1.0 style)
    length       Content-Length
    chunk-event  Transfer-Encoding: chunked, one chunk per event (small chunks)
    chunk-64k    Transfer-Encoding: chunked, 65,536-byte chunks (events cross chunk boundaries)
All responses say `Connection: close` and the server closes after the body.

JSON lines: the N payloads, each followed by `\n`, no Content-Length and no chunking (the body ends
when the server closes), as a streaming API (Ollama, a Kubernetes watch) sends them.

WebSocket: N unmasked, unfragmented text frames carrying the payloads, then a close frame with code
1000; the server then reads until the client's close frame (or EOF, or 10 s) and closes.

The whole response body (framing included) is built once per distinct request and cached (the most
recent one only, to bound memory: ~130 MB for 1,000,000 x 100 B); it is then written with 1 MiB
`sendall` calls, so the server costs one large write per MiB and is never the bottleneck. The first
request of a kind waits for the build (about a second per million events): benches/neutral.sh makes
that request in its untimed check round.
"""
import base64
import hashlib
import socket
import sys
import threading
from socketserver import BaseRequestHandler, ThreadingTCPServer
from urllib.parse import parse_qs, urlsplit

WRITE = 1 << 20
CHUNK_64K = 64 * 1024
SHAPES = ("close", "length", "chunk-event", "chunk-64k")
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MIN_SIZE = 80

_cache_lock = threading.Lock()
_cache = {}


def payloads(n, size):
    """The n JSON payloads, each exactly `size` bytes."""
    head = b'{"seq":%d,"type":"trade","sym":"BTC-USD","side":"buy","qty":1,"pad":"'
    fixed = len(head) - 2 + len(b'"}')
    pads = {}
    out = []
    for i in range(1, n + 1):
        digits = len(str(i))
        pad = pads.get(digits)
        if pad is None:
            pad = pads[digits] = b"x" * (size - fixed - digits)
        out.append(head % i + pad + b'"}')
    return out


def sse_body(shape, n, size, ids):
    """(extra header lines, body bytes) for one SSE response."""
    if ids:
        events = [b"id: %d\ndata: %s\n\n" % (i, p) for i, p in enumerate(payloads(n, size), 1)]
    else:
        events = [b"data: %s\n\n" % p for p in payloads(n, size)]
    if shape == "chunk-event":
        body = b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"
        return b"Transfer-Encoding: chunked\r\n", body
    plain = b"".join(events)
    del events
    if shape == "chunk-64k":
        mv = memoryview(plain)
        parts = []
        for off in range(0, len(plain), CHUNK_64K):
            piece = mv[off:off + CHUNK_64K]
            parts.append(b"%x\r\n" % len(piece))
            parts.append(piece)
            parts.append(b"\r\n")
        parts.append(b"0\r\n\r\n")
        return b"Transfer-Encoding: chunked\r\n", b"".join(parts)
    if shape == "length":
        return b"Content-Length: %d\r\n" % len(plain), plain
    return b"", plain  # close


def jsonl_body(n, size):
    """The n payloads, one per line."""
    return b"".join(p + b"\n" for p in payloads(n, size))


def ws_body(n, size):
    """The frames: n unmasked FIN text frames, then close 1000."""
    frames = []
    for p in payloads(n, size):
        ln = len(p)
        if ln < 126:
            frames.append(bytes((0x81, ln)))
        elif ln < 65536:
            frames.append(bytes((0x81, 126)) + ln.to_bytes(2, "big"))
        else:
            frames.append(bytes((0x81, 127)) + ln.to_bytes(8, "big"))
        frames.append(p)
    frames.append(b"\x88\x02\x03\xe8")
    return b"".join(frames)


def cached(key, build):
    with _cache_lock:
        if key not in _cache:
            _cache.clear()  # free the previous body before building the next one
            _cache[key] = build()
        return _cache[key]


def send_all(sock, data):
    mv = memoryview(data)
    for off in range(0, len(mv), WRITE):
        sock.sendall(mv[off:off + WRITE])


class Handler(BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.settimeout(60)
        buf = b""
        while b"\r\n\r\n" not in buf:
            got = sock.recv(65536)
            if not got or len(buf) > 65536:
                return
            buf += got
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or parts[0] != "GET":
            return self.error(sock, 405, "GET only")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        url = urlsplit(parts[1])
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            n = int(query.get("n", "1000"))
            size = int(query.get("size", "100"))
            ids = query.get("ids", "1") == "1"
            shape = query.get("shape", "close")
        except ValueError:
            return self.error(sock, 400, "bad number")
        if n < 0 or size < MIN_SIZE:
            return self.error(sock, 400, "n >= 0 and size >= %d" % MIN_SIZE)
        if url.path == "/sse":
            if shape not in SHAPES:
                return self.error(sock, 400, "shape is one of " + ", ".join(SHAPES))
            extra, body = cached(("sse", shape, n, size, ids), lambda: sse_body(shape, n, size, ids))
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Cache-Control: no-cache\r\nConnection: close\r\n" + extra + b"\r\n")
            send_all(sock, body)
        elif url.path == "/jsonl":
            body = cached(("jsonl", n, size), lambda: jsonl_body(n, size))
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                         b"Cache-Control: no-cache\r\nConnection: close\r\n\r\n")
            send_all(sock, body)
        elif url.path == "/ws":
            key = headers.get("sec-websocket-key")
            if headers.get("upgrade", "").lower() != "websocket" or not key:
                return self.error(sock, 400, "a WebSocket upgrade is expected")
            body = cached(("ws", n, size), lambda: ws_body(n, size))
            accept = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest())
            sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            send_all(sock, body)
            self.await_close(sock, rest)
        else:
            return self.error(sock, 404, "/sse, /jsonl or /ws")
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    @staticmethod
    def await_close(sock, buf):
        """Reads the client's frames until its close frame (or EOF, or 10 s)."""
        sock.settimeout(10)
        try:
            while True:
                while len(buf) >= 2:
                    ln = buf[1] & 0x7F
                    hlen = 2 + (2 if ln == 126 else 8 if ln == 127 else 0)
                    if len(buf) < hlen:
                        break
                    if ln >= 126:
                        ln = int.from_bytes(buf[2:hlen], "big")
                    hlen += 4 if buf[1] & 0x80 else 0
                    if len(buf) < hlen + ln:
                        break
                    if buf[0] & 0x0F == 8:
                        return
                    buf = buf[hlen + ln:]
                got = sock.recv(65536)
                if not got:
                    return
                buf += got
        except OSError:
            return

    @staticmethod
    def error(sock, status, why):
        body = (why + "\n").encode()
        sock.sendall(b"HTTP/1.1 %d Error\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (status, len(body), body))


class Server(ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    with Server(("127.0.0.1", 0), Handler) as server:
        print(server.server_address[1], flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    sys.exit(main())
