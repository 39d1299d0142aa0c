#!/usr/bin/env node
// HTTP/2 test server using only Node's built-in `http2` (no npm packages).
//
// Usage:
//   node h2_server.js --tls CERT_PATH   h2 over TLS (ALPN h2 + http/1.1);
//                                       generates a self-signed cert with
//                                       `openssl` at start: cert PEM written
//                                       to CERT_PATH, key to CERT_PATH.key
//   node h2_server.js --h2c             cleartext HTTP/2, prior knowledge only
//                                       (HTTP/1.1 requests are rejected)
//   --h2-only                           with --tls: no HTTP/1.1 (ALPN h2 only)
//   --no-connect-protocol               SETTINGS_ENABLE_CONNECT_PROTOCOL off (no RFC 8441)
// Listens on 127.0.0.1, port 0; the FIRST stdout line is the port alone.
//
// Routes:
//   GET /sse?count=N&interval_ms=MS   text/event-stream, N events (5, 200ms)
//                                     then ends; h2 and (TLS only) HTTP/1.1.
//   CONNECT :protocol=websocket (RFC 8441, any :path; h2 only)
//     -> 200, then N WebSocket text frames {"seq":i} (hand-written, unmasked),
//        then a Close frame 1000 and END_STREAM.  Query: ?count=N&interval_ms=MS
//        (defaults 3, 100).  Echoes the first offered sec-websocket-protocol.
//        Frames the client sends are counted and logged to stderr only.
'use strict';
const http2 = require('http2');
const fs = require('fs');
const { execFileSync } = require('child_process');

const argv = process.argv.slice(2);
const tlsIdx = argv.indexOf('--tls');
const h2c = argv.includes('--h2c');
if ((tlsIdx < 0 || !argv[tlsIdx + 1]) && !h2c) {
  console.error('usage: h2_server.js --tls CERT_PATH | --h2c');
  process.exit(2);
}

// SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441) is what lets clients send
// an extended CONNECT with a :protocol pseudo-header.
const settings = { enableConnectProtocol: !argv.includes('--no-connect-protocol') };
let server;
if (h2c) {
  server = http2.createServer({ settings });
} else {
  const certPath = argv[tlsIdx + 1];
  const keyPath = `${certPath}.key`;
  // EC P-256 keygen is instant (RSA-2048 takes ~0.1-1 s).
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', keyPath, '-out', certPath,
  ], { stdio: 'pipe' }); // throws (with openssl's stderr) on failure
  server = http2.createSecureServer({
    key: fs.readFileSync(keyPath),
    cert: fs.readFileSync(certPath),
    allowHTTP1: !argv.includes('--h2-only'), // ALPN http/1.1 (and no-ALPN clients) get HTTP/1.1
    settings,
  });
}

const query = (url) => new URL(url, 'http://x').searchParams;

// Compat API: 'request' fires for HTTP/1.1 and HTTP/2 requests alike.
server.on('request', (req, res) => {
  const q = query(req.url);
  if (req.method === 'GET' && req.url.startsWith('/sse')) {
    const count = parseInt(q.get('count') ?? '5', 10);
    const intervalMs = parseInt(q.get('interval_ms') ?? '200', 10);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(`: hello over HTTP/${req.httpVersion}\n\n`);
    let i = 0;
    const timer = setInterval(() => {
      if (i >= count) { clearInterval(timer); res.end(); return; }
      res.write(`id: ${i}\nevent: tick\ndata: {"seq":${i},"http":"${req.httpVersion}"}\n\n`);
      i++;
    }, intervalMs);
    req.on('close', () => clearInterval(timer));
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
});

// Unmasked server->client WebSocket frame (RFC 6455 5.2), FIN set.
function wsFrame(opcode, payload) {
  const len = payload.length;
  let head;
  if (len < 126) head = Buffer.from([0x80 | opcode, len]);
  else if (len < 65536) { head = Buffer.alloc(4); head[0] = 0x80 | opcode; head[1] = 126; head.writeUInt16BE(len, 2); }
  else { head = Buffer.alloc(10); head[0] = 0x80 | opcode; head[1] = 127; head.writeBigUInt64BE(BigInt(len), 2); }
  return Buffer.concat([head, payload]);
}

// Compat API routes every HTTP/2 CONNECT (plain or extended) to 'connect'.
server.on('connect', (req, res) => {
  if (req.headers[':protocol'] !== 'websocket') {
    res.writeHead(501); res.end(); return;
  }
  const q = query(req.url);
  const count = parseInt(q.get('count') ?? '3', 10);
  const intervalMs = parseInt(q.get('interval_ms') ?? '100', 10);
  const headers = {}; // RFC 8441: 200 (not 101), no Sec-WebSocket-Accept
  const offered = req.headers['sec-websocket-protocol'];
  if (offered) headers['sec-websocket-protocol'] = offered.split(',')[0].trim();
  res.writeHead(200, headers);
  let received = 0;
  req.on('data', (chunk) => { received += chunk.length; console.error(`ws-over-h2: got ${chunk.length} bytes from client`); });
  let i = 0;
  const timer = setInterval(() => {
    if (i < count) {
      res.write(wsFrame(0x1, Buffer.from(JSON.stringify({ seq: i, via: 'rfc8441' }))));
      i++;
      return;
    }
    clearInterval(timer);
    const body = Buffer.alloc(2); body.writeUInt16BE(1000, 0);
    res.end(wsFrame(0x8, Buffer.concat([body, Buffer.from('done')]))); // Close + END_STREAM
  }, intervalMs);
  req.on('close', () => clearInterval(timer));
});

server.on('sessionError', () => {});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
