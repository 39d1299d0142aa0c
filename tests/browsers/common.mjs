// Shared by record-chromium.mjs and record-firefox.mjs: start `streamscope serve`, and the page
// script that opens the streams (the same in both browsers).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The repository: these scripts live in tests/browsers/. */
export const REPO = path.resolve(HERE, '..', '..');
/** Where the fixtures are checked in (tests/data/har/), the default of every --dir / --out. */
export const FIXTURES = path.join(REPO, 'tests', 'data', 'har');
/** The streamscope that serves the pages and (compare.mjs) imports the HARs: `cargo build`'s. */
export const DEFAULT_BIN = path.join(REPO, 'target', 'debug', 'streamscope');

export function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

/** Starts `BIN serve --port 0` and resolves to {url, stop} once it printed its address. */
export function startServer(bin = DEFAULT_BIN) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no address from ${bin}: ${out}`)), 10000);
    child.on('error', reject);
    child.stdout.on('data', (b) => {
      out += b;
      const m = /streamscope server on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout.resume();
        resolve({
          url: m[1],
          stop: () => { child.kill('SIGCONT'); child.kill('SIGTERM'); },
          // Freezes the server (SIGSTOP): its connections stay open and send nothing.
          pause: () => child.kill('SIGSTOP'),
          resume: () => child.kill('SIGCONT'),
        });
      }
    });
  });
}

/** The page's part, as a function evaluated in the page (no closure: it must serialize). It opens
 * (a) an EventSource on /sse?count=5&interval_ms=100, closed when the server ends the body;
 * (b) a WebSocket on /echo: 4 texts and 1 binary, waits for the 5 echoes, closes 1000 "bye";
 * (c) a WebSocket on /ws?count=5&interval_ms=100, which the server closes (1000 "done");
 * (d) fetch POST /chat?interval_ms=40, an SSE body read by fetch (how LLM apps read SSE).
 * All four run at once. Returns the page's own log: wall times (performance.timeOrigin +
 * performance.now(), ms) of what the JS saw, a second view of the truth (the one Firefox has). */
export async function pageRun() {
  const now = () => performance.timeOrigin + performance.now();
  const log = [];
  const L = (s, ev, extra = {}) => log.push({ s, ev, t: now(), ...extra });
  const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)));
  const wsBase = location.origin.replace(/^http/, 'ws');

  const sse = new Promise((resolve) => {
    const es = new EventSource('/sse?count=5&interval_ms=100');
    L('sse', 'created', { url: es.url });
    es.onopen = () => L('sse', 'open');
    es.addEventListener('tick', (e) => L('sse', 'message', { type: e.type, id: e.lastEventId, data: e.data }));
    es.onmessage = (e) => L('sse', 'message', { type: e.type, id: e.lastEventId, data: e.data });
    // The body ends after 5 events; EventSource would reconnect after `retry: 2000`: stop it.
    es.onerror = () => { L('sse', 'error', { readyState: es.readyState }); es.close(); resolve(); };
  });

  const echo = new Promise((resolve) => {
    const ws = new WebSocket(wsBase + '/echo');
    ws.binaryType = 'arraybuffer';
    L('echo', 'created', { url: ws.url });
    const out = ['hello', 'wörld ✓', JSON.stringify({ seq: 1, note: 'json text' }), 'x'.repeat(200)];
    const bin = new Uint8Array([0, 1, 2, 127, 128, 253, 254, 255]);
    let got = 0;
    ws.onopen = () => {
      L('echo', 'open', { protocol: ws.protocol, extensions: ws.extensions });
      for (const t of out) { ws.send(t); L('echo', 'send', { opcode: 1, data: t }); }
      ws.send(bin); L('echo', 'send', { opcode: 2, data: b64(bin.buffer) });
    };
    ws.onmessage = (e) => {
      const bin = typeof e.data !== 'string';
      L('echo', 'message', { opcode: bin ? 2 : 1, data: bin ? b64(e.data) : e.data });
      if (++got === out.length + 1) { ws.close(1000, 'bye'); L('echo', 'close-called', { code: 1000, reason: 'bye' }); }
    };
    ws.onclose = (e) => { L('echo', 'close', { code: e.code, reason: e.reason, wasClean: e.wasClean }); resolve(); };
  });

  const feed = new Promise((resolve) => {
    const ws = new WebSocket(wsBase + '/ws?count=5&interval_ms=100');
    L('ws', 'created', { url: ws.url });
    ws.onopen = () => L('ws', 'open');
    ws.onmessage = (e) => L('ws', 'message', { opcode: 1, data: e.data });
    ws.onclose = (e) => { L('ws', 'close', { code: e.code, reason: e.reason, wasClean: e.wasClean }); resolve(); };
  });

  const chat = (async () => {
    L('chat', 'created', { url: new URL('/chat?interval_ms=40', location.href).href });
    const r = await fetch('/chat?interval_ms=40', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: 'one two three four' }),
    });
    L('chat', 'open', { status: r.status });
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      L('chat', 'chunk', { data: dec.decode(value, { stream: true }) });
    }
    L('chat', 'end');
  })();

  const all = Promise.all([sse, echo, feed, chat]);
  const timeout = new Promise((_, rej) => setTimeout(() => rej(new Error('page run timed out')), 20000));
  await Promise.race([all, timeout]);
  return { timeOrigin: performance.timeOrigin, userAgent: navigator.userAgent, log };
}

/** A second page run, for the error paths: WebSockets whose server misbehaves
 * (docs/server.md, /scenario/ws/...). /close/1005 sends a Close frame with the reserved code
 * 1005, which Chromium reports as a WebSocket frame error (a `type: "error"` entry in DevTools'
 * _webSocketMessages) and fails the connection (1006); /close/1011 is a plain server close with a
 * code and a reason. */
export async function pageRunWsErrors() {
  const now = () => performance.timeOrigin + performance.now();
  const log = [];
  const L = (s, ev, extra = {}) => log.push({ s, ev, t: now(), ...extra });
  const wsBase = location.origin.replace(/^http/, 'ws');
  const one = (s, path) => new Promise((resolve) => {
    const ws = new WebSocket(wsBase + path);
    L(s, 'created', { url: ws.url });
    ws.onopen = () => L(s, 'open');
    ws.onmessage = (e) => L(s, 'message', { opcode: 1, data: e.data });
    ws.onerror = () => L(s, 'error');
    ws.onclose = (e) => { L(s, 'close', { code: e.code, reason: e.reason, wasClean: e.wasClean }); resolve(); };
  });
  const all = Promise.all([one('close-1005', '/scenario/ws/close/1005'), one('close-1011', '/scenario/ws/close/1011?reason=boom')]);
  const timeout = new Promise((_, rej) => setTimeout(() => rej(new Error('page run timed out')), 20000));
  await Promise.race([all, timeout]);
  return { timeOrigin: performance.timeOrigin, userAgent: navigator.userAgent, log };
}

/** A third page run, for a HAR saved while the streams are still open (what a person does when
 * debugging a live stream): an EventSource and a WebSocket on the endless feed, and a long fetch
 * SSE, each left open once it has had 5 messages. window.__live.close() ends them afterwards. */
export async function pageRunLive() {
  const now = () => performance.timeOrigin + performance.now();
  const log = [];
  const L = (s, ev, extra = {}) => log.push({ s, ev, t: now(), ...extra });
  const wsBase = location.origin.replace(/^http/, 'ws');
  const closers = [];
  const es = new Promise((resolve) => {
    const es = new EventSource('/sse?interval_ms=100');
    closers.push(() => es.close());
    L('sse', 'created', { url: es.url });
    es.onopen = () => L('sse', 'open');
    let n = 0;
    es.addEventListener('tick', (e) => { L('sse', 'message', { type: e.type, id: e.lastEventId, data: e.data }); if (++n === 5) resolve(); });
  });
  const ws = new Promise((resolve) => {
    const ws = new WebSocket(wsBase + '/ws?interval_ms=100');
    closers.push(() => ws.close(1000, 'bye'));
    L('ws', 'created', { url: ws.url });
    ws.onopen = () => L('ws', 'open');
    let n = 0;
    ws.onmessage = (e) => { L('ws', 'message', { opcode: 1, data: e.data }); if (++n === 5) resolve(); };
  });
  const chat = (async () => {
    const url = new URL('/chat?interval_ms=100', location.href).href;
    const ac = new AbortController();
    closers.push(() => ac.abort());
    L('chat', 'created', { url });
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
    const r = await fetch(url, { method: 'POST', body: words, signal: ac.signal });
    L('chat', 'open', { status: r.status });
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let text = '';
    for (;;) {
      const { value } = await reader.read();
      const chunk = dec.decode(value, { stream: true });
      L('chat', 'chunk', { data: chunk });
      text += chunk;
      if ((text.match(/\n\n/g) || []).length >= 5) break;
    }
    reader.read().catch(() => {}); // keep the body flowing until the abort
  })();
  window.__live = { close: () => closers.forEach((c) => c()) };
  const timeout = new Promise((_, rej) => setTimeout(() => rej(new Error('page run timed out')), 20000));
  await Promise.race([Promise.all([es, ws, chat]), timeout]);
  return { timeOrigin: performance.timeOrigin, userAgent: navigator.userAgent, log };
}
