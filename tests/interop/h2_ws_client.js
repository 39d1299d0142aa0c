#!/usr/bin/env node
// Verifier for RFC 8441 (WebSocket over HTTP/2) using Node's built-in http2.
// Usage: node h2_ws_client.js URL      e.g. https://127.0.0.1:PORT/ws  or
//                                           http://127.0.0.1:PORT/ws (h2c)
// Prints the peer's SETTINGS_ENABLE_CONNECT_PROTOCOL, the response headers,
// then each WebSocket frame received (opcode + payload), and exits on END_STREAM.
'use strict';
const http2 = require('http2');

const url = new URL(process.argv[2]);
const session = http2.connect(url.origin, { rejectUnauthorized: false });
setTimeout(() => { console.error('timeout'); process.exit(1); }, 10000).unref();
session.on('error', (e) => { console.error('session error', e); process.exit(1); });
session.on('remoteSettings', (s) => {
  console.log('remote enableConnectProtocol =', s.enableConnectProtocol);
  // Node refuses :protocol unless the peer advertised enableConnectProtocol.
  const stream = session.request({
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': url.protocol.slice(0, -1),
    ':path': url.pathname + url.search,
    ':authority': url.host,
    'sec-websocket-version': '13',
    'sec-websocket-protocol': 'chat, superchat',
  });
  stream.on('response', (h) => console.log('response', JSON.stringify(h)));
  let buf = Buffer.alloc(0);
  stream.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2) {
      const op = buf[0] & 0x0f; let len = buf[1] & 0x7f; let off = 2;
      if (len === 126) { len = buf.readUInt16BE(2); off = 4; }
      if (buf.length < off + len) break;
      const p = buf.subarray(off, off + len);
      console.log(op === 8 ? `close code=${p.readUInt16BE(0)} reason=${p.subarray(2)}` : `frame op=${op} ${p}`);
      buf = buf.subarray(off + len);
    }
  });
  // Send one masked text frame "hi" (mask 0) so the server sees client data.
  stream.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69]));
  // Server sent END_STREAM: half-close our side too, else the stream (and
  // the session, and this process) stays open forever.
  stream.on('end', () => { console.log('END_STREAM'); stream.end(); session.close(); });
});
