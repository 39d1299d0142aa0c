#!/usr/bin/env python3
"""Checks one neutral-server response byte for byte, so a malformed body cannot skew a benchmark.

Usage:
    python3 benches/neutral/check.py sse PORT SHAPE N SIZE IDS
    python3 benches/neutral/check.py jsonl PORT N SIZE
    python3 benches/neutral/check.py ws PORT N SIZE

Reads the whole raw response over a plain socket and parses it here (no code shared with server.py
beyond the documented format): the status line and headers; the framing the SHAPE promises (no
length and no chunking for `close`; a Content-Length equal to the body for `length`; valid chunks
for `chunk-*`: exactly one event per chunk for `chunk-event`, 65,536-byte chunks but the last for
`chunk-64k`; the terminating zero chunk); then the SSE events: exactly N, each `id: i` (when IDS is
1) and one `data:` line holding a JSON object of exactly SIZE bytes whose seq is i. For `jsonl`: status 200, Content-Type application/x-ndjson, no length and no
chunking, then exactly N lines, each ended by LF and holding a JSON object of SIZE bytes with seq i.
For `ws`: the
101 handshake with the right Sec-WebSocket-Accept, N unmasked FIN text frames of SIZE bytes holding
that JSON with seq i, then a close frame with code 1000, and the connection's end after our close.
Prints `ok ...` and exits 0, or prints what is wrong and exits 1.
"""
import base64
import hashlib
import json
import os
import socket
import sys


def fail(why):
    print("check failed: " + why)
    sys.exit(1)


def read_all(sock):
    parts = []
    while True:
        got = sock.recv(1 << 20)
        if not got:
            return b"".join(parts)
        parts.append(got)


def split_head(raw):
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        fail("no end of the response head")
    lines = raw[:end].decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            fail("bad header line %r" % line)
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, raw[end + 4:]


def check_payload(p, i, size):
    if len(p) != size:
        fail("payload %d is %d bytes, not %d" % (i, len(p), size))
    obj = json.loads(p)
    if obj.get("seq") != i:
        fail("payload %d has seq %r" % (i, obj.get("seq")))


def dechunk(body, shape):
    out = []
    pos = 0
    sizes = []
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            fail("chunk size line without CRLF at %d" % pos)
        size = int(body[pos:eol], 16)
        pos = eol + 2
        if size == 0:
            if body[pos:] != b"\r\n":
                fail("bytes after the last chunk: %r" % body[pos:pos + 20])
            break
        if body[pos + size:pos + size + 2] != b"\r\n":
            fail("chunk of %d bytes at %d not followed by CRLF" % (size, pos))
        out.append(body[pos:pos + size])
        sizes.append(size)
        pos += size + 2
    if shape == "chunk-64k" and any(s != 65536 for s in sizes[:-1]):
        fail("a chunk other than the last is not 65,536 bytes")
    return out


def check_sse(port, shape, n, size, ids):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"GET /sse?shape=%s&n=%d&size=%d&ids=%d HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Accept: text/event-stream\r\n\r\n" % (shape.encode(), n, size, ids))
    status, headers, body = split_head(read_all(sock))
    if status != "HTTP/1.1 200 OK":
        fail("status %r" % status)
    if headers.get("content-type") != "text/event-stream":
        fail("content-type %r" % headers.get("content-type"))
    te, cl = headers.get("transfer-encoding"), headers.get("content-length")
    if shape == "close":
        if te is not None or cl is not None:
            fail("an until-close body has a length or chunking")
        chunks = [body]
    elif shape == "length":
        if te is not None or cl is None or int(cl) != len(body):
            fail("Content-Length %r for a body of %d bytes" % (cl, len(body)))
        chunks = [body]
    else:
        if te != "chunked" or cl is not None:
            fail("transfer-encoding %r, content-length %r" % (te, cl))
        chunks = dechunk(body, shape)
    text = b"".join(chunks)
    events = text.split(b"\n\n")
    if events[-1] != b"":
        fail("the body does not end with a blank line")
    events.pop()
    if len(events) != n:
        fail("%d events, not %d" % (len(events), n))
    if shape == "chunk-event" and [len(c) for c in chunks] != [len(e) + 2 for e in events]:
        fail("chunks are not one event each")
    for i, ev in enumerate(events, 1):
        lines = ev.split(b"\n")
        if ids:
            if lines[0] != b"id: %d" % i:
                fail("event %d: first line %r" % (i, lines[0][:40]))
            lines = lines[1:]
        if len(lines) != 1 or not lines[0].startswith(b"data: "):
            fail("event %d: lines %r" % (i, [x[:40] for x in lines]))
        check_payload(lines[0][6:], i, size)
    print("ok sse shape=%s n=%d size=%d ids=%d body=%d bytes" % (shape, n, size, ids, len(body)))


def check_jsonl(port, n, size):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"GET /jsonl?n=%d&size=%d HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Accept: application/x-ndjson\r\n\r\n" % (n, size))
    status, headers, body = split_head(read_all(sock))
    if status != "HTTP/1.1 200 OK":
        fail("status %r" % status)
    if headers.get("content-type") != "application/x-ndjson":
        fail("content-type %r" % headers.get("content-type"))
    if headers.get("transfer-encoding") is not None or headers.get("content-length") is not None:
        fail("an until-close body has a length or chunking")
    lines = body.split(b"\n")
    if lines[-1] != b"":
        fail("the body does not end with a line feed")
    lines.pop()
    if len(lines) != n:
        fail("%d lines, not %d" % (len(lines), n))
    for i, line in enumerate(lines, 1):
        check_payload(line, i, size)
    print("ok jsonl n=%d size=%d body=%d bytes" % (n, size, len(body)))


def accept_of(key):
    """Sec-WebSocket-Accept for a key (RFC 6455 section 4.2.2), checked against the RFC's example."""
    return base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())


def check_ws(port, n, size):
    # RFC 6455 section 1.3's worked example, so a typo in the GUID cannot pass unnoticed.
    assert accept_of(b"dGhlIHNhbXBsZSBub25jZQ==") == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    sock = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16))
    sock.sendall(b"GET /ws?n=%d&size=%d HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                 % (n, size, key))
    parts = []
    while True:
        got = sock.recv(1 << 20)
        if not got:
            fail("EOF before the close frame")
        parts.append(got)
        if b"".join(parts[-2:]).endswith(b"\x88\x02\x03\xe8"):
            # Probably the close frame (payloads are ASCII JSON); the parse below decides.
            break
    status, headers, frames = split_head(b"".join(parts))
    if not status.startswith("HTTP/1.1 101"):
        fail("status %r" % status)
    if headers.get("sec-websocket-accept", "").encode() != accept_of(key):
        fail("bad Sec-WebSocket-Accept")
    pos, i = 0, 0
    while True:
        b0, b1 = frames[pos], frames[pos + 1]
        if b1 & 0x80:
            fail("a masked server frame")
        ln, pos = b1 & 0x7F, pos + 2
        if ln == 126:
            ln, pos = int.from_bytes(frames[pos:pos + 2], "big"), pos + 2
        elif ln == 127:
            ln, pos = int.from_bytes(frames[pos:pos + 8], "big"), pos + 8
        payload, pos = frames[pos:pos + ln], pos + ln
        if b0 == 0x88:
            if payload != b"\x03\xe8" or pos != len(frames):
                fail("close frame %r with %d bytes after it" % (payload, len(frames) - pos))
            break
        if b0 != 0x81:
            fail("frame %d: first byte %#x, not a FIN text frame" % (i + 1, b0))
        i += 1
        check_payload(payload, i, size)
    if i != n:
        fail("%d messages, not %d" % (i, n))
    sock.sendall(b"\x88\x82\x00\x00\x00\x00\x03\xe8")
    sock.settimeout(10)
    if read_all(sock) != b"":
        fail("bytes after the close frame")
    print("ok ws n=%d size=%d frames=%d bytes" % (n, size, len(frames)))


def main():
    args = sys.argv[1:]
    if len(args) == 6 and args[0] == "sse":
        check_sse(int(args[1]), args[2], int(args[3]), int(args[4]), int(args[5]))
    elif len(args) == 4 and args[0] == "jsonl":
        check_jsonl(int(args[1]), int(args[2]), int(args[3]))
    elif len(args) == 4 and args[0] == "ws":
        check_ws(int(args[1]), int(args[2]), int(args[3]))
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
