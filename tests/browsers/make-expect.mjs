#!/usr/bin/env node
// Writes tests/data/har/<har>.expect.json for every HAR in tests/data/har/: the truth of each stream as the
// browser saw it, taken from the browser and never from a HAR or from streamscope:
//   Chromium: the raw CDP events of chromium.cdp.json (network-level times, microseconds);
//   Firefox:  the page's own log of firefox.page.json (JS event times, 0.1-1 ms, later than the
//             network by the event loop's delay); Firefox has no CDP and its HAR is the thing
//             under test.
// Each expect file also says, per stream, what that HAR carries (har_carries), so a test knows
// which parts of the truth an importer can possibly recover from it.
//
// Records follow streamscope's --json vocabulary (docs/json-records.md): open / message / event /
// close / end, dir in|out, gap_ms = time since the previous received record (the first one: since
// the open).
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES, arg } from './common.mjs';

const DIR = arg('--dir', FIXTURES);
const read = (f) => JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'));

const iso = (us) => {
  const d = new Date(Math.floor(us / 1000));
  return d.toISOString().slice(0, 19) + '.' + String(Math.round(us) % 1_000_000).padStart(6, '0') + 'Z';
};
const ms3 = (x) => Math.round(x * 1000) / 1000;

/** SSE parser (WHATWG), over bytes, with the byte offset at which each event or comment ends. */
function parseSse(buf) {
  const items = [];
  let data = [], event = '', id = null, lastId = null, retry = null, pos = 0, hasData = false;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
  while (pos < buf.length) {
    let end = pos;
    while (end < buf.length && buf[end] !== 0x0a && buf[end] !== 0x0d) end++;
    if (end >= buf.length) break; // unterminated last line: not dispatched
    const line = buf.subarray(pos, end).toString('utf8');
    let next = end + 1;
    if (buf[end] === 0x0d && buf[end + 1] === 0x0a) next++;
    if (line === '') {
      if (hasData) {
        items.push({ kind: 'event', event: event || 'message', id: lastId, data: data.join('\n'), end: next });
      } else if (retry !== null) {
        items.push({ kind: 'retry', retry, end: next });
      }
      data = []; event = ''; hasData = false; retry = null;
    } else if (line.startsWith(':')) {
      items.push({ kind: 'comment', text: line.slice(1).replace(/^ /, ''), end: next });
    } else {
      const c = line.indexOf(':');
      const field = c < 0 ? line : line.slice(0, c);
      const value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
      if (field === 'data') { data.push(value); hasData = true; }
      else if (field === 'event') event = value;
      else if (field === 'id' && !value.includes('\0')) { id = value; lastId = value; }
      else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
    }
    pos = next;
  }
  return items;
}

function withGaps(s) {
  let last = s.open_ts_us;
  const records = s.records.map((r) => {
    const { ts_us, chunk_ts_us, ...rest } = r;
    const out = { ...rest, ts: iso(ts_us) };
    if (r.kind === 'message' || r.kind === 'event') {
      out.payload_bytes = r.data_base64 !== undefined ? Buffer.from(r.data_base64, 'base64').length : Buffer.byteLength(r.data ?? '');
    }
    if (chunk_ts_us !== undefined) out.chunk_ts = iso(chunk_ts_us);
    // The demo feed stamps each tick with the server's clock when it was sent (ts_ms): a lower
    // bound of the arrival that does not depend on the browser (same machine, same clock).
    try {
      const ms = JSON.parse(r.data).ts_ms;
      if (Number.isFinite(ms) && r.dir === 'in') out.server_sent_ts = iso(ms * 1000);
    } catch { /* not JSON */ }
    if (r.dir === 'in') { out.gap_ms = ms3((ts_us - last) / 1000); last = ts_us; }
    return out;
  });
  const { request_ts_us, open_ts_us, end_ts_us, records: _, sources, ...meta } = s;
  const { proto, method, url, initiator, ...more } = meta;
  return {
    proto, method, url, initiator, request_ts: iso(request_ts_us), open_ts: iso(open_ts_us), ...more,
    records, end_ts: end_ts_us === undefined ? null : iso(end_ts_us), sources,
  };
}

/** Chromium: the truth from CDP. Monotonic timestamps become wall time the way DevTools does it
 * (NetworkRequest.pseudoWallTime): the request's wallTime + (timestamp - its issue timestamp). */
function chromiumTruth(cdp) {
  const byId = new Map();
  const get = (id) => { if (!byId.has(id)) byId.set(id, { id, ev: [] }); return byId.get(id); };
  for (const e of cdp.events) if (e.params?.requestId) get(e.params.requestId).ev.push(e);
  const pageLog = cdp.page.log;
  const streams = [];
  const offsets = [];
  for (const r of byId.values()) {
    const find = (m) => r.ev.find((e) => e.method === m)?.params;
    const all = (m) => r.ev.filter((e) => e.method === m).map((e) => e.params);
    const created = find('Network.webSocketCreated');
    if (created) {
      const hs = find('Network.webSocketWillSendHandshakeRequest');
      const resp = find('Network.webSocketHandshakeResponseReceived');
      const closed = find('Network.webSocketClosed');
      const off = hs.wallTime - hs.timestamp;
      offsets.push(off);
      const wall = (t) => Math.round((off + t) * 1e6);
      const url = created.url;
      const name = pageLog.find((l) => l.ev === 'created' && l.url === url)?.s;
      const records = [];
      for (const e of r.ev) {
        if (e.method === 'Network.webSocketFrameError') {
          records.push({ kind: 'error', message: e.params.errorMessage, ts_us: wall(e.params.timestamp) });
          continue;
        }
        if (e.method !== 'Network.webSocketFrameSent' && e.method !== 'Network.webSocketFrameReceived') continue;
        const f = e.params.response;
        const rec = { kind: 'message', dir: e.method.endsWith('Sent') ? 'out' : 'in', ts_us: wall(e.params.timestamp) };
        if (f.opcode === 1) Object.assign(rec, { opcode: 'text', data: f.payloadData });
        else if (f.opcode === 2) Object.assign(rec, { opcode: 'binary', data_base64: f.payloadData });
        else Object.assign(rec, { opcode: f.opcode, data: f.payloadData });
        records.push(rec);
      }
      const jsClose = pageLog.find((l) => l.s === name && l.ev === 'close');
      const byClient = pageLog.some((l) => l.s === name && l.ev === 'close-called');
      if (closed) {
        records.push({ kind: 'close', by: byClient ? 'client' : 'server', code: jsClose?.code ?? null,
          reason: jsClose?.reason ?? null, clean: jsClose?.wasClean ?? null, ts_us: wall(closed.timestamp),
          note: 'CDP reports no close frame: ts is Network.webSocketClosed (the closing handshake done), code, reason and clean are what the page saw (CloseEvent)' });
      }
      streams.push({
        proto: 'ws', method: 'GET', url, initiator: 'WebSocket',
        request_ts_us: wall(hs.timestamp), open_ts_us: wall(resp.timestamp),
        handshake_ms: ms3((resp.timestamp - hs.timestamp) * 1000), status: resp.response.status,
        records, end_ts_us: closed ? wall(closed.timestamp) : undefined,
        sources: {
          request_ts: 'Network.webSocketWillSendHandshakeRequest (Network.webSocketCreated has no timestamp)',
          open_ts: 'Network.webSocketHandshakeResponseReceived', records: 'Network.webSocketFrameSent/Received/Error',
          end_ts: 'Network.webSocketClosed',
        },
      });
      continue;
    }
    const rws = find('Network.requestWillBeSent');
    const rr = find('Network.responseReceived');
    if (!rws || !rr || rr.response.mimeType !== 'text/event-stream') continue;
    const off = rws.wallTime - rws.timestamp;
    offsets.push(off);
    const wall = (t) => Math.round((off + t) * 1e6);
    // The body: streamed to the recorder's session (Network.streamResourceContent's bufferedData,
    // then the data of each later dataReceived), else Network.getResponseBody after the end.
    const streamed = find('recorder.streamResourceContent');
    const body = cdp.bodies[r.id];
    let bytes;
    if (streamed?.bufferedData !== undefined) {
      bytes = Buffer.concat([Buffer.from(streamed.bufferedData, 'base64'),
        ...all('Network.dataReceived').filter((d) => d.data).map((d) => Buffer.from(d.data, 'base64'))]);
      if (body?.body !== undefined && !bytes.equals(Buffer.from(body.body, body.base64Encoded ? 'base64' : 'utf8'))) {
        console.warn(`${rws.request.url}: streamed body and getResponseBody differ; using the streamed one`);
      }
    } else {
      bytes = Buffer.from(body.body, body.base64Encoded ? 'base64' : 'utf8');
    }
    // Each parsed item arrived with the dataReceived chunk that holds its last byte.
    const chunks = [];
    let total = 0;
    for (const d of all('Network.dataReceived')) { total += d.dataLength; chunks.push({ upTo: total, t: d.timestamp }); }
    const items = parseSse(bytes).map((it) => ({ ...it, chunkT: chunks.find((c) => c.upTo >= it.end)?.t }));
    const esm = all('Network.eventSourceMessageReceived');
    const records = [];
    let retryMs = null;
    for (const it of items) {
      if (it.kind === 'retry') { retryMs = it.retry; continue; }
      if (it.kind === 'comment') { records.push({ kind: 'comment', dir: 'in', text: it.text, ts_us: wall(it.chunkT) }); continue; }
      const m = esm.length ? esm[records.filter((x) => x.kind === 'event').length] : null;
      records.push({ kind: 'event', dir: 'in', event: it.event, id: it.id, data: it.data,
        ts_us: wall(m ? m.timestamp : it.chunkT), chunk_ts_us: wall(it.chunkT) });
    }
    const t = rr.response.timing;
    const headersAt = t.requestTime + t.receiveHeadersEnd / 1000;
    // loadingFinished is stamped by the network service, the data events by the renderer: under
    // load the last dataReceived can come tens of ms after it. The stream ended for the page when
    // both had happened.
    const fin = find('Network.loadingFinished');
    const lastData = all('Network.dataReceived').at(-1);
    const endT = fin ? Math.max(fin.timestamp, lastData?.timestamp ?? 0) : undefined;
    streams.push({
      proto: 'sse', method: rws.request.method, url: rws.request.url, initiator: rws.type,
      request_ts_us: wall(rws.timestamp), open_ts_us: wall(headersAt),
      handshake_ms: ms3((headersAt - rws.timestamp) * 1000), status: rr.response.status,
      response_received_ts: iso(wall(rr.timestamp)), retry_ms: retryMs,
      loading_finished_ts: fin ? iso(wall(fin.timestamp)) : null,
      records, end_ts_us: endT === undefined ? undefined : wall(endT),
      sources: {
        request_ts: 'Network.requestWillBeSent', open_ts: 'responseReceived.response.timing: requestTime + receiveHeadersEnd',
        records: esm.length ? 'Network.eventSourceMessageReceived (chunk_ts: the Network.dataReceived holding the event\'s last byte)'
          : 'the body (Network.getResponseBody) parsed, each event at the Network.dataReceived holding its last byte',
        end_ts: 'the later of Network.loadingFinished (network service) and the last Network.dataReceived (renderer)',
      },
    });
  }
  const spread = offsets.length ? Math.round((Math.max(...offsets) - Math.min(...offsets)) * 1e6) : 0;
  return { streams: streams.map(withGaps), clock: { wall_minus_monotonic_spread_us: spread } };
}

/** Firefox: the truth from the page's log (what the JS saw, when). */
function pageTruth(page, origin) {
  const log = page.log;
  const ws = origin.replace(/^http/, 'ws');
  const us = (t) => Math.round(t * 1000);
  const of = (s) => log.filter((l) => l.s === s);
  const streams = [];
  const at = (s, ev) => of(s).find((l) => l.ev === ev);
  for (const [s, url] of [['echo', `${ws}/echo`], ['ws', `${ws}/ws?count=5&interval_ms=100`]]) {
    const records = [];
    for (const l of of(s)) {
      if (l.ev === 'send' || l.ev === 'message') {
        const rec = { kind: 'message', dir: l.ev === 'send' ? 'out' : 'in', ts_us: us(l.t) };
        if (l.opcode === 2) Object.assign(rec, { opcode: 'binary', data_base64: l.data });
        else Object.assign(rec, { opcode: 'text', data: l.data });
        records.push(rec);
      }
    }
    const close = at(s, 'close');
    const byClient = Boolean(at(s, 'close-called'));
    records.push({ kind: 'close', by: byClient ? 'client' : 'server', code: close.code, reason: close.reason, clean: close.wasClean, ts_us: us(close.t) });
    streams.push({ proto: 'ws', method: 'GET', url, initiator: 'WebSocket', request_ts_us: us(at(s, 'created').t),
      open_ts_us: us(at(s, 'open').t), handshake_ms: ms3(at(s, 'open').t - at(s, 'created').t), status: 101,
      records, end_ts_us: us(close.t),
      sources: { request_ts: 'new WebSocket()', open_ts: 'onopen', records: 'send() / onmessage', end_ts: 'onclose' } });
  }
  {
    const records = of('sse').filter((l) => l.ev === 'message')
      .map((l) => ({ kind: 'event', dir: 'in', event: l.type, id: l.id, data: l.data, ts_us: us(l.t) }));
    streams.push({ proto: 'sse', method: 'GET', url: `${origin}/sse?count=5&interval_ms=100`, initiator: 'EventSource',
      request_ts_us: us(at('sse', 'created').t), open_ts_us: us(at('sse', 'open').t),
      handshake_ms: ms3(at('sse', 'open').t - at('sse', 'created').t), status: 200, retry_ms: 2000, records,
      end_ts_us: us(at('sse', 'error').t),
      sources: { request_ts: 'new EventSource()', open_ts: 'onopen', records: 'event listeners', end_ts: 'onerror (body ended)' } });
  }
  {
    const records = [];
    let buf = Buffer.alloc(0);
    for (const l of of('chat').filter((x) => x.ev === 'chunk')) {
      const before = parseSse(buf).length;
      buf = Buffer.concat([buf, Buffer.from(l.data)]);
      for (const it of parseSse(buf).slice(before)) {
        if (it.kind === 'event') records.push({ kind: 'event', dir: 'in', event: it.event, id: it.id, data: it.data, ts_us: us(l.t) });
      }
    }
    streams.push({ proto: 'sse', method: 'POST', url: `${origin}/chat?interval_ms=40`, initiator: 'fetch',
      request_ts_us: us(at('chat', 'created').t), open_ts_us: us(at('chat', 'open').t),
      handshake_ms: ms3(at('chat', 'open').t - at('chat', 'created').t), status: 200, retry_ms: null, records,
      end_ts_us: us(at('chat', 'end').t),
      sources: { request_ts: 'fetch() called', open_ts: 'fetch() resolved', records: 'reader.read() chunks, parsed', end_ts: 'reader done' } });
  }
  return { streams: streams.map(withGaps) };
}

/** What one HAR entry carries for a stream. */
function carries(har, s) {
  const e = har.log.entries.find((x) => x.request.url === s.url && x.request.method === s.method);
  if (!e) return { entry: false };
  const c = { entry: true, resourceType: e._resourceType ?? null, startedDateTime: e.startedDateTime, time: e.time, timings: e.timings };
  if (s.proto === 'ws') {
    const m = e._webSocketMessages;
    c.ws_messages = m ? m.length : null;
    c.ws_opcodes = m ? [...new Set(m.map((x) => x.opcode))] : [];
    c.ws_close_frame = Boolean(m?.some((x) => x.opcode === 8));
  } else {
    const m = e._eventSourceMessages;
    c.sse_messages = m ? m.length : null;
    c.sse_message_fields = m?.length ? Object.keys(m[0]) : [];
    c.sse_message_data = Boolean(m?.length && 'data' in m[0]);
    c.body_text = typeof e.response.content.text === 'string' && e.response.content.text.length > 0;
  }
  return c;
}


// tests/data/har/sources.json (written by the recorders): HAR -> the truth file recorded with it.
const sources = read('sources.json');
const truths = {};
const truthOf = (file) => {
  if (!truths[file]) {
    const src = read(file);
    truths[file] = src.events
      ? { browser: src.browser, kind: 'cdp', ...chromiumTruth(src) }
      : { browser: src.browser, kind: 'page', ...pageTruth(src.page, src.server) };
  }
  return truths[file];
};
for (const [f, src] of Object.entries(sources)) {
  if (!fs.existsSync(path.join(DIR, f))) continue;
  const har = read(f);
  const truth = truthOf(src.truth);
  const cdpTruth = truth.kind === 'cdp';
  const out = {
    har: f,
    writer: src.writer,
    browser: truth.browser,
    truth_source: cdpTruth
      ? `${src.truth}: CDP Network events; wall time = request wallTime + (timestamp - request timestamp), as DevTools pseudoWallTime`
      : `${src.truth}: the page JS (performance.timeOrigin + performance.now()); JS sees network events late by the event loop, typically 0.1-5 ms, and the browser clamps it to 1 ms here`,
    tolerance_ms: cdpTruth ? 1 : 5,
    ...(truth.clock ? { clock: truth.clock } : {}),
    streams: truth.streams.map((s) => ({ ...s, har_carries: carries(har, s) })),
  };
  fs.writeFileSync(path.join(DIR, f.replace(/\.har$/, '.expect.json')), JSON.stringify(out, null, 1) + '\n');
  console.log(`${f.replace(/\.har$/, '.expect.json')}: ${out.streams.length} streams`);
}
