#!/usr/bin/env node
// Recomputes, from the raw CDP events alone (tests/data/har/chromium*.cdp.json), the fields that Chrome
// DevTools' HAR writer puts on the WebSocket and event-stream entries, and checks them against
// the HARs that the real DevTools frontend wrote from the same page (tests/data/har/sources.json).
// It is the DevTools code path written out small, so the formulas in docs/recording.md are checked:
//   core/sdk/NetworkManager.ts  NetworkDispatcher: requestWillBeSent, responseReceived,
//       dataReceived, loadingFinished, webSocketWillSendHandshakeRequest,
//       webSocketHandshakeResponseReceived, webSocketFrameSent/Received, webSocketClosed,
//       eventSourceMessageReceived (what each event sets on the NetworkRequest)
//   core/sdk/NetworkRequest.ts  setIssueTime, pseudoWallTime, responseReceivedTime, endTime
//       setter, timing setter, addProtocolFrame, addEventSourceMessage
//   models/har/Log.ts           Entry.build (startedDateTime, time, _webSocketMessages,
//       _eventSourceMessages), Entry.buildTimings
// Not modelled: fetch()-read event streams' _eventSourceMessages times (ServerSentEvents.ts takes
// them from when the frontend's streaming of the body caught up, not from the network events).
//
// usage: node devtools-har-model.mjs [--dir tests/data/har]   (exit 1 on a mismatch)
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES, arg } from './common.mjs';

const DIR = arg('--dir', FIXTURES);
const read = (f) => JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'));

// --- NetworkRequest, reduced to its time fields -------------------------------------------------
let reqs;
const R = (id) => reqs.get(id);
function setEndTime(r, x) {
  if (r.timing?.requestTime) r.endTime = Math.max(x, r.responseReceivedTime ?? -1);
  else { r.endTime = x; if (r.responseReceivedTime > x) r.responseReceivedTime = x; }
}
function setTiming(r, t) {
  r.startTime = t.requestTime;
  const headersReceived = t.requestTime + t.receiveHeadersEnd / 1000;
  if ((r.responseReceivedTime ?? -1) < 0 || r.responseReceivedTime > headersReceived) r.responseReceivedTime = headersReceived;
  if (r.startTime > r.responseReceivedTime) r.responseReceivedTime = r.startTime;
  r.timing = t;
}
const pseudo = (r, t) => (r.wallIssueTime ? r.wallIssueTime - r.issueTime + t : t);

function replay(cdp) {
  reqs = new Map();
  for (const { method, params: p } of cdp.events) {
    switch (method) {
      case 'Network.requestWillBeSent':
        if (!reqs.has(p.requestId)) reqs.set(p.requestId, { url: p.request.url, method: p.request.method, frames: [], esm: [] });
        Object.assign(R(p.requestId), { issueTime: p.timestamp, wallIssueTime: p.wallTime, startTime: p.timestamp, type: p.type });
        break;
      case 'Network.requestWillBeSentExtraInfo':
        if (R(p.requestId) && p.connectTiming) R(p.requestId).startTime = p.connectTiming.requestTime;
        break;
      case 'Network.responseReceived': {
        const r = R(p.requestId);
        if (!r) break;
        r.responseReceivedTime = p.timestamp;
        r.mimeType = p.response.mimeType;
        if (p.response.timing) setTiming(r, p.response.timing);
        break;
      }
      case 'Network.dataReceived': if (R(p.requestId)) setEndTime(R(p.requestId), p.timestamp); break;
      case 'Network.loadingFinished': if (R(p.requestId)) setEndTime(R(p.requestId), p.timestamp); break;
      case 'Network.webSocketCreated':
        reqs.set(p.requestId, { url: p.url, method: 'GET', frames: [], esm: [], type: 'WebSocket' });
        break;
      case 'Network.webSocketWillSendHandshakeRequest':
        Object.assign(R(p.requestId), { issueTime: p.timestamp, wallIssueTime: p.wallTime, startTime: p.timestamp });
        break;
      case 'Network.webSocketHandshakeResponseReceived': R(p.requestId).responseReceivedTime = p.timestamp; break;
      case 'Network.webSocketFrameSent':
      case 'Network.webSocketFrameReceived': {
        const r = R(p.requestId);
        r.frames.push({ type: method.endsWith('Sent') ? 'send' : 'receive', time: pseudo(r, p.timestamp),
          opcode: p.response.opcode, data: p.response.payloadData });
        r.responseReceivedTime = p.timestamp; // every frame moves it: this is why `wait` spans the frames
        break;
      }
      case 'Network.webSocketFrameError': {
        const r = R(p.requestId);
        r.frames.push({ type: 'error', time: pseudo(r, p.timestamp), opcode: -1, data: p.errorMessage });
        r.responseReceivedTime = p.timestamp;
        break;
      }
      case 'Network.webSocketClosed': setEndTime(R(p.requestId), p.timestamp); break;
      case 'Network.eventSourceMessageReceived': {
        const r = R(p.requestId);
        r.esm.push({ time: pseudo(r, p.timestamp), eventName: p.eventName, eventId: p.eventId, data: p.data });
        break;
      }
      default:
    }
  }
}

// --- models/har/Log.ts Entry.buildTimings and Entry.build ---------------------------------------
const ms = (t) => (t === -1 ? -1 : t * 1000);
const leastNonNegative = (v) => v.reduce((best, x) => (x >= 0 && x < best ? x : best), Infinity);
function buildTimings(r) {
  const { timing, issueTime, startTime } = r;
  const res = { blocked: -1, dns: -1, ssl: -1, connect: -1, send: 0, wait: 0, receive: 0, _blocked_queueing: -1 };
  const queued = issueTime < startTime ? startTime - issueTime : -1;
  res.blocked = ms(queued);
  res._blocked_queueing = ms(queued);
  let highest = 0;
  if (timing) {
    const blockedStart = leastNonNegative([timing.dnsStart, timing.connectStart, timing.sendStart]);
    if (blockedStart !== Infinity) res.blocked += blockedStart;
    if (timing.proxyEnd !== -1) res._blocked_proxy = timing.proxyEnd - timing.proxyStart;
    if (res._blocked_proxy && res._blocked_proxy > res.blocked) res.blocked = res._blocked_proxy;
    const dnsStart = timing.dnsEnd >= 0 ? blockedStart : 0;
    const dnsEnd = timing.dnsEnd >= 0 ? timing.dnsEnd : -1;
    res.dns = dnsEnd - dnsStart;
    const sslStart = timing.sslEnd > 0 ? timing.sslStart : 0;
    const sslEnd = timing.sslEnd > 0 ? timing.sslEnd : -1;
    res.ssl = sslEnd - sslStart;
    const connectStart = timing.connectEnd >= 0 ? leastNonNegative([dnsEnd, blockedStart]) : 0;
    const connectEnd = timing.connectEnd >= 0 ? timing.connectEnd : -1;
    res.connect = connectEnd - connectStart;
    const sendStart = timing.sendEnd >= 0 ? Math.max(connectEnd, dnsEnd, blockedStart) : 0;
    const sendEnd = timing.sendEnd >= 0 ? timing.sendEnd : 0;
    res.send = Math.max(sendEnd - sendStart, 0);
    highest = Math.max(sendEnd, connectEnd, sslEnd, dnsEnd, blockedStart, 0);
  } else if ((r.responseReceivedTime ?? -1) === -1) {
    res.blocked = ms((r.endTime ?? -1) - issueTime);
    return res;
  }
  const requestTime = timing ? timing.requestTime : startTime;
  const waitEnd = ms(r.responseReceivedTime - requestTime);
  res.wait = waitEnd - highest;
  res.receive = Math.max(ms((r.endTime ?? -1) - requestTime) - waitEnd, 0);
  return res;
}

let bad = 0, checked = 0;
// Each CDP session's network agent stamps events itself, so the DevTools frontend's copy of an
// event can differ from ours by tens of microseconds: times agree within 200 µs, the rest exactly.
const TOL_MS = 0.2;
const same = (a, b, unit = 1) => {
  if (typeof a === 'number') return typeof b === 'number' && Math.abs(a - b) * unit <= TOL_MS;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && typeof a === 'object') {
    return b && typeof b === 'object' && Object.keys(a).length === Object.keys(b).length
      && Object.keys(a).every((k) => same(a[k], b[k], k === 'time' ? 1000 : 1));
  }
  return a === b;
};
// Every DevTools HAR "with sensitive data" (the sanitized ones differ only by the data left out).
const sources = read('sources.json');
for (const [harFile, src] of Object.entries(sources)) {
  if (!/with sensitive data/.test(src.writer) || !fs.existsSync(path.join(DIR, harFile))) continue;
  const har = read(harFile);
  replay(read(src.truth));
  console.log(`== ${harFile} from ${src.truth}`);
  for (const e of har.log.entries) {
    const r = [...reqs.values()].find((x) => x.url === e.request.url && x.method === e.request.method);
    if (!r || !(r.type === 'WebSocket' || r.mimeType === 'text/event-stream')) continue;
    const t = buildTimings(r);
    let time = 0;
    for (const k of ['blocked', 'dns', 'connect', 'send', 'wait', 'receive']) time += Math.max(t[k], 0);
    const model = { startedDateTime: new Date(pseudo(r, r.issueTime) * 1000).toJSON(), time };
    for (const k of ['blocked', 'dns', 'ssl', 'connect', 'send', 'wait', 'receive']) model[`timings.${k}`] = t[k];
    if (r.type === 'WebSocket') model._webSocketMessages = r.frames;
    if (r.type === 'EventSource') model._eventSourceMessages = r.esm;
    const lines = [];
    for (const [k, v] of Object.entries(model)) {
      const actual = k.startsWith('timings.') ? e.timings[k.slice(8)] : e[k];
      checked++;
      const ok = same(v, actual);
      if (!ok) bad++;
      let shown = [v, actual];
      if (!ok && Array.isArray(v) && Array.isArray(actual)) {
        const i = v.findIndex((x, j) => !same(x, actual[j]));
        shown = [`#${i} of ${v.length}: ${JSON.stringify(v[i])}`, `#${i} of ${actual.length}: ${JSON.stringify(actual[i])}`];
      }
      lines.push(`  ${ok ? 'ok  ' : 'DIFF'} ${k}${ok ? '' : `: model ${JSON.stringify(shown[0]).slice(0, 200)}, DevTools ${JSON.stringify(shown[1]).slice(0, 200)}`}`);
    }
    console.log(`${e.request.method} ${e.request.url} (${e._resourceType})`);
    console.log(lines.join('\n'));
  }
}
console.log(`${checked - bad} passed, ${bad} failed (times within ${TOL_MS * 1000} µs)`);
process.exit(bad ? 1 : 0);
