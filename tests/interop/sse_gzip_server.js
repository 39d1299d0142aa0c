#!/usr/bin/env node
// SSE server whose stream is gzip Content-Encoded, flushed per event,
// using express 5 + compression 1.x (res.flush() is added by `compression`).
//
// Usage: node sse_gzip_server.js [--allow-br]
//   NODE_PATH must point at a node_modules holding express + compression.
// Listens on 127.0.0.1, port 0; FIRST stdout line is the port alone.
//
// GET /sse?count=N&interval_ms=MS   (defaults 5 and 200)
//   text/event-stream; gzip when the request has Accept-Encoding: gzip,
//   identity otherwise.  Events: "id: i / event: tick / data: {json}", then
//   the response ends.  A ": hello" comment is sent first.
'use strict';
const express = require('express');
const compression = require('compression');

const app = express();
// Gotcha: compression >= 1.8 also speaks brotli and PREFERS br when offered
// (curl --compressed sends "deflate, gzip, br, zstd").  To get gzip we drop
// "br" from Accept-Encoding unless --allow-br is given.
if (!process.argv.includes('--allow-br')) {
  app.use((req, _res, next) => {
    const ae = req.headers['accept-encoding'];
    if (ae) {
      req.headers['accept-encoding'] = ae.split(',')
        .filter((e) => e.trim().split(';')[0].toLowerCase() !== 'br').join(',');
    }
    next();
  });
}
// `compression` only compresses if the type is compressible (mime-db says
// text/event-stream is) and the body is >= threshold; with a streaming body
// and no Content-Length the threshold check doesn't apply, 0 to be explicit.
app.use(compression({ threshold: 0 }));

app.get('/sse', (req, res) => {
  const count = parseInt(req.query.count ?? '5', 10);
  const intervalMs = parseInt(req.query.interval_ms ?? '200', 10);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache');
  res.flushHeaders();
  res.write(': hello\n\n');
  res.flush(); // Z_SYNC_FLUSH the gzip stream so the bytes go out now
  let i = 0;
  const timer = setInterval(() => {
    if (i >= count) {
      clearInterval(timer);
      res.end();
      return;
    }
    const data = JSON.stringify({ seq: i, text: 'hello streamscope' });
    res.write(`id: ${i}\nevent: tick\ndata: ${data}\n\n`);
    res.flush();
    i++;
  }, intervalMs);
  req.on('close', () => clearInterval(timer));
});

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
