#!/usr/bin/env node
// WebSocket feed server with permessage-deflate (RFC 7692), using `ws` 8.
//
// Usage: node ws_deflate_server.js [--count N] [--interval-ms MS]
//                                  [--threshold BYTES] [--no-context] [--off]
//
// Listens on 127.0.0.1, port 0.  The FIRST stdout line is the port alone.
// Each connection gets N JSON text messages (every 5th one > 1 KiB, others
// ~100 bytes), then a close 1000 "done" -- same feed as ws_deflate_server.py.
//
// ws compresses only messages >= `threshold` bytes (its default is 1024),
// so we default to threshold 0 to make every message compressed.
// NODE_PATH must point at the node_modules holding `ws`
// (or run from a folder whose node_modules has it).
'use strict';
const { WebSocketServer } = require('ws');

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const count = parseInt(opt('--count', '20'), 10);
const intervalMs = parseFloat(opt('--interval-ms', '0'));
const threshold = parseInt(opt('--threshold', '0'), 10);

let perMessageDeflate = { threshold };
if (argv.includes('--no-context')) {
  perMessageDeflate = { threshold, serverNoContextTakeover: true, serverMaxWindowBits: 9 };
}
if (argv.includes('--off')) perMessageDeflate = false;

function message(i) {
  const msg = { seq: i, type: 'tick', text: 'hello streamscope '.repeat(3) };
  if (i % 5 === 4) {
    msg.type = 'big';
    msg.blob = `lorem ipsum dolor sit amet ${i} `.repeat(40);
  }
  return JSON.stringify(msg);
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate });
wss.on('listening', () => {
  process.stdout.write(`${wss.address().port}\n`);
});
wss.on('connection', async (ws) => {
  ws.on('error', () => {});
  for (let i = 0; i < count; i++) {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(message(i)); // queued in order, compression is async but ordered
    if (intervalMs) await new Promise((r) => setTimeout(r, intervalMs));
  }
  ws.close(1000, 'done'); // sent after all queued messages
});
process.on('SIGTERM', () => process.exit(0));
