#!/usr/bin/env node
// Loads HARs written by `streamscope --har` into the real DevTools frontend of headless Chromium,
// with the code its "Import HAR file" button runs (models/har/HARFormat.ts HARRoot, then
// models/har/Importer.ts Importer.requestsFromHARLog), and checks that DevTools reads every
// WebSocket frame and every event, with the times, that streamscope's own import reads:
//   1. a live session: `streamscope serve`, then `streamscope --har` on its /sse and /echo (with
//      pings and a sent message);
//   2. a browser's HAR imported and exported again (tests/data/har/chromium-devtools-sensitive.har);
//   and any HAR given with --har FILE.
// Exit 1 on a difference.
//
// usage: node check-export.mjs [--bin PATH] [--har FILE]...
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import puppeteer from 'puppeteer-core';
import { DEFAULT_BIN, FIXTURES, arg, startServer } from './common.mjs';

const BIN = arg('--bin', DEFAULT_BIN);
const CHROMIUM = arg('--chromium', '/usr/bin/chromium');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'har-check-'));
const run = (args) => {
  const p = spawnSync(BIN, args, { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`${BIN} ${args.join(' ')}: exit ${p.status}: ${p.stderr}`);
  return p;
};

// The HARs to check.
const hars = [];
const server = await startServer(BIN);
try {
  const live = path.join(tmp, 'live-session.har');
  const a = server.url.replace(/^http:\/\//, '');
  run(['--json', '--duration', '600ms', '--ping-interval', '50ms', '--send', 'hello', '--send', 'wörld',
    '--har', live, `http://${a}/sse?interval_ms=50`, `ws://${a}/echo`]);
  hars.push(live);
} finally {
  server.stop();
}
const again = path.join(tmp, 'chromium-devtools-sensitive.again.har');
run(['replay', '--json', '--speed', 'max', '--har', again, path.join(FIXTURES, 'chromium-devtools-sensitive.har')]);
hars.push(again);
for (let i = process.argv.indexOf('--har'); i >= 0; i = process.argv.indexOf('--har', i + 1)) {
  hars.push(path.resolve(process.argv[i + 1]));
}

/** streamscope's import of a HAR: per stream URL, its records. */
function streamscopeView(file) {
  const rec = path.join(tmp, 'rec.jsonl');
  run(['replay', '--json', '--speed', 'max', '--record', rec, file]);
  const lines = fs.readFileSync(rec, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const byUrl = {};
  for (const s of lines[0].streams) byUrl[s.url] = lines.slice(1).filter((r) => r.stream === s.index);
  return byUrl;
}

const us = (iso) => {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  return Date.parse(m[1] + 'Z') * 1000 + Number((m[2] || '').padEnd(6, '0').slice(0, 6));
};
const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'har-check-chromium-'));
const browser = await puppeteer.launch({
  executablePath: CHROMIUM, headless: true, userDataDir: profile,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--remote-debugging-port=0', '--remote-allow-origins=devtools://devtools'],
});
let failures = 0;
try {
  const page = await browser.newPage();
  await page.goto('about:blank');
  const cdp = await page.createCDPSession();
  const { targetInfo } = await cdp.send('Target.getTargetInfo');
  const dt = await browser.newPage();
  await dt.goto(`devtools://devtools/bundled/devtools_app.html?ws=${new URL(browser.wsEndpoint()).host}/devtools/page/${targetInfo.targetId}`);
  for (let i = 0; ; i++) {
    const ok = await dt.evaluate(async () => Boolean(await import('./models/har/har.js'))).catch(() => false);
    if (ok) break;
    if (i > 100) throw new Error('DevTools frontend not ready');
    await sleep(200);
  }
  const version = await browser.version();
  for (const file of hars) {
    const text = fs.readFileSync(file, 'utf8');
    // What DevTools' importer makes of it.
    const requests = await dt.evaluate(async (text) => {
      const HAR = await import('./models/har/har.js');
      const log = new HAR.HARFormat.HARRoot(JSON.parse(text)).log;
      return HAR.Importer.Importer.requestsFromHARLog(log).map((r) => ({
        url: r.url(),
        type: r.resourceType().name(),
        issueTime: r.issueTime(),
        frames: r.frames().map((f) => ({ type: f.type, time: f.time, opCode: f.opCode, text: f.text })),
        events: r.eventSourceMessages().map((m) => ({ time: m.time, eventName: m.eventName, eventId: m.eventId, data: m.data })),
      }));
    }, text);
    const ours = streamscopeView(file);
    const fails = [];
    for (const r of requests) {
      const recs = ours[r.url];
      if (!recs) { fails.push(`${r.url}: DevTools has it, streamscope does not`); continue; }
      const ms = (s) => Math.round(s * 1e6);
      if (r.type === 'websocket') {
        const want = recs.filter((x) => ['message', 'ping', 'pong', 'close', 'error'].includes(x.kind));
        if (want.length !== r.frames.length) fails.push(`${r.url}: DevTools ${r.frames.length} frames, streamscope ${want.length}`);
        r.frames.forEach((f, i) => {
          const w = want[i];
          if (!w) return;
          const data = w.kind === 'error' ? w.message : w.kind === 'close' ? `${w.code}${w.reason ? ' ' + w.reason : ''}`
            : w.data_base64 ?? (w.opcode === 'text' ? w.data : b64(w.data ?? ''));
          const type = w.kind === 'error' ? 'error' : w.dir === 'out' ? 'send' : 'receive';
          if (f.type !== type || f.text !== data || Math.abs(ms(f.time) - us(w.ts)) > 1) {
            fails.push(`${r.url} frame ${i}: DevTools ${JSON.stringify(f)}, streamscope ${w.kind} ${w.dir} ${w.ts} ${JSON.stringify(data)}`);
          }
        });
      } else {
        const want = recs.filter((x) => x.kind === 'event');
        if (want.length !== r.events.length) fails.push(`${r.url}: DevTools ${r.events.length} events, streamscope ${want.length}`);
        r.events.forEach((e, i) => {
          const w = want[i];
          if (!w) return;
          if (e.eventName !== w.event || e.eventId !== (w.id ?? '') || e.data !== w.data || Math.abs(ms(e.time) - us(w.ts)) > 1) {
            fails.push(`${r.url} event ${i}: DevTools ${JSON.stringify(e)}, streamscope ${JSON.stringify(w)}`);
          }
        });
      }
    }
    for (const url of Object.keys(ours)) {
      if (!requests.some((r) => r.url === url)) fails.push(`${url}: streamscope has it, DevTools does not`);
    }
    const summary = requests.map((r) => `${r.type} ${r.frames.length || r.events.length}`).join(', ');
    console.log(`${path.basename(file)}: DevTools (${version}) reads ${requests.length} requests (${summary})`
      + (fails.length ? `; ${fails.length} difference(s):\n  ${fails.join('\n  ')}` : '; the same frames and events as streamscope'));
    failures += fails.length;
  }
} finally {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failures ? 1 : 0);
