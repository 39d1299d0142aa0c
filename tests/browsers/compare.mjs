#!/usr/bin/env node
// Runs streamscope's HAR importer on every tests/data/har/<har> that has a <har>.expect.json and
// lists every difference from the browser's truth, for a person to read (the tests that decide
// are in tests/har_browsers.rs; this lists what is left, estimated or missing):
//   BIN replay --json --speed max --record TMP tests/data/har/X.har
// (--record gives the header with each stream's URL, so streams are matched by URL and method).
// Writes target/har-compare/<har>.compare.json and target/har-compare/DISCREPANCIES.md; exit code
// 0 whatever it finds.
//
// usage: node compare.mjs [--bin PATH] [--dir tests/data/har] [--report target/har-compare]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO, FIXTURES, DEFAULT_BIN, arg } from './common.mjs';

const BIN = arg('--bin', DEFAULT_BIN);
const DIR = arg('--dir', FIXTURES);
const REPORT = arg('--report', path.join(REPO, 'target', 'har-compare'));
fs.mkdirSync(REPORT, { recursive: true });
const us = (iso) => {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  const frac = (m[2] || '').padEnd(6, '0').slice(0, 6);
  return Date.parse(m[1] + m[3]) * 1000 + Number(frac);
};
const f3 = (x) => (Math.round(x * 1000) / 1000).toString();
const payload = (r) => r.data ?? r.data_base64 ?? r.text ?? null;

function importHar(file) {
  const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'har-cmp-')), 'rec.jsonl');
  const p = spawnSync(BIN, ['replay', '--json', '--speed', 'max', '--record', tmp, file], { encoding: 'utf8' });
  const res = { exit: p.status, stderr: p.stderr.trim(), records: [], streams: [] };
  if (fs.existsSync(tmp)) {
    const lines = fs.readFileSync(tmp, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    res.streams = lines[0]?.streams ?? [];
    res.records = lines.slice(1);
  }
  fs.rmSync(path.dirname(tmp), { recursive: true, force: true });
  return res;
}

function compareStream(t, imp, tol, findings) {
  const add = (what, detail) => findings.push({ stream: `${t.method} ${new URL(t.url).pathname}${new URL(t.url).search}`, what, detail });
  const c = t.har_carries;
  if (!imp) {
    add('missing', c.entry ? 'the HAR has an entry for it; the importer made no stream'
      : 'the HAR has no entry for it (the writer left it out)');
    return;
  }
  const recs = imp.records;
  const open = recs.find((r) => r.kind === 'open');
  const tOpen = us(t.open_ts);
  if (!open) { add('no open', ''); return; }
  const dOpen = (us(open.ts) - tOpen) / 1000;
  if (Math.abs(dOpen) > tol) add('open time', `open at ${open.ts}, truth ${t.open_ts} (Δ ${f3(dOpen)} ms)`);
  if (Math.abs(open.handshake_ms - t.handshake_ms) > tol) {
    add('handshake_ms', `imported ${f3(open.handshake_ms)} ms, truth ${f3(t.handshake_ms)} ms`);
  }
  if (open.status !== t.status) add('status', `imported ${open.status}, truth ${t.status}`);
  const before = recs.filter((r) => r.kind !== 'open' && us(r.ts) < us(open.ts));
  if (before.length) add('records before the open', `${before.length} record(s) stamped before their stream's open`);
  const afterEnd = recs.findIndex((r) => r.kind === 'open') > 0;
  if (afterEnd) add('open not first', 'the open is not the stream\'s first record');

  const isData = (r) => ['message', 'event', 'comment'].includes(r.kind);
  const got = recs.filter(isData);
  const want = t.records.filter(isData);
  if (got.length !== want.length) add('record count', `imported ${got.length} messages/events, truth ${want.length}`);
  const n = Math.min(got.length, want.length);
  const tsD = [], gapD = [];
  let dataBad = 0, fieldBad = [];
  for (let i = 0; i < n; i++) {
    const g = got[i], w = want[i];
    if (payload(g) !== payload(w) || g.dir !== w.dir) dataBad++;
    for (const k of ['opcode', 'event', 'id']) {
      if (k in w && (g[k] ?? null) !== (w[k] ?? null)) fieldBad.push(`#${i} ${k}: imported ${JSON.stringify(g[k] ?? null)}, truth ${JSON.stringify(w[k])}`);
    }
    if (w.payload_bytes !== undefined && g.payload_bytes !== undefined && g.payload_bytes !== w.payload_bytes) {
      fieldBad.push(`#${i} payload_bytes: imported ${g.payload_bytes}, truth ${w.payload_bytes}`);
    }
    tsD.push((us(g.ts) - us(w.ts)) / 1000);
    if (w.dir === 'in' && g.gap_ms !== undefined) gapD.push({ i, g: g.gap_ms, w: w.gap_ms });
  }
  if (dataBad) add('payload/direction', `${dataBad} of ${n} differ`);
  if (fieldBad.length) add('fields', fieldBad.slice(0, 4).join('; ') + (fieldBad.length > 4 ? `; … (${fieldBad.length} in all)` : ''));
  const off = tsD.filter((d) => Math.abs(d) > tol);
  if (off.length) {
    const max = tsD.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
    add('message times', `${off.length} of ${n} off by more than ${tol} ms (worst Δ ${f3(max)} ms)`);
  }
  const first = gapD[0];
  if (first && Math.abs(first.g - first.w) > tol) add('first gap_ms', `imported ${f3(first.g)} ms, truth ${f3(first.w)} ms`);
  const gapOff = gapD.slice(1).filter((x) => Math.abs(x.g - x.w) > tol);
  if (gapOff.length) add('gap_ms', `${gapOff.length} of ${gapD.length - 1} later gaps off by more than ${tol} ms (e.g. #${gapOff[0].i}: imported ${f3(gapOff[0].g)}, truth ${f3(gapOff[0].w)})`);
  if (got.length < want.length && n === got.length && got.length) {
    // nothing more: counted above
  }
  const wClose = t.records.find((r) => r.kind === 'close');
  const gClose = recs.find((r) => r.kind === 'close');
  if (wClose && !gClose) add('close', `no close record (truth: ${wClose.by} closed ${wClose.code} "${wClose.reason}")`);
  if (wClose && gClose && (gClose.code !== wClose.code || gClose.reason !== wClose.reason)) {
    add('close', `imported ${gClose.code} "${gClose.reason}", truth ${wClose.code} "${wClose.reason}"`);
  }
  const wErr = t.records.filter((r) => r.kind === 'error');
  if (wErr.length && !recs.some((r) => r.kind === 'error')) {
    add('error', `the browser reported ${wErr.length} WebSocket error(s) ("${wErr[0].message}"); no error record`);
  }
  const end = recs.find((r) => r.kind === 'end');
  if (end && t.end_ts) {
    const d = (us(end.ts) - us(t.end_ts)) / 1000;
    if (Math.abs(d) > tol) add('end time', `end at ${end.ts}, truth ${t.end_ts} (Δ ${f3(d)} ms)`);
  }
  return { open, got };
}

const md = ['# streamscope HAR import vs the browsers\' truth', '',
  `Generated by \`node tests/browsers/compare.mjs\` (importer: \`${path.relative(REPO, BIN)} replay --json --speed max\`). `
  + 'Truth: the `.expect.json` beside each HAR. Tolerance: 1 ms for Chromium (CDP), 5 ms for Firefox (page JS).', ''];
for (const f of fs.readdirSync(DIR).filter((x) => x.endsWith('.expect.json')).sort()) {
  const exp = JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'));
  const harFile = path.join(DIR, exp.har);
  const imp = importHar(harFile);
  const findings = [];
  if (imp.exit !== 0) findings.push({ stream: '*', what: 'import failed', detail: `exit ${imp.exit}: ${imp.stderr}` });
  const byIndex = imp.streams.map((s) => ({ meta: s, records: imp.records.filter((r) => r.stream === s.index) }));
  const used = new Set();
  const truthOrder = new Map(); // imported record -> truth ts, for the cross-stream order check
  for (const t of exp.streams) {
    const m = byIndex.find((s) => s.meta.url === t.url && (s.meta.options?.method ?? 'GET') === t.method && !used.has(s));
    if (m) used.add(m);
    const r = compareStream(t, m, exp.tolerance_ms, findings);
    if (r) {
      const want = t.records.filter((x) => ['message', 'event', 'comment'].includes(x.kind));
      r.got.forEach((g, i) => { if (want[i]) truthOrder.set(g, us(want[i].ts)); });
      truthOrder.set(r.open, us(t.open_ts));
    }
  }
  for (const s of byIndex.filter((s) => !used.has(s))) {
    findings.push({ stream: s.meta.url, what: 'extra stream', detail: `imported stream ${s.meta.index} has no counterpart in the truth` });
  }
  // Cross-stream order: walk the importer's output; count adjacent pairs the truth orders the other way.
  const seq = imp.records.filter((r) => truthOrder.has(r));
  let inv = 0;
  for (let i = 1; i < seq.length; i++) {
    if (truthOrder.get(seq[i]) + exp.tolerance_ms * 1000 < truthOrder.get(seq[i - 1])) inv++;
  }
  if (inv) findings.push({ stream: '*', what: 'merged order', detail: `${inv} adjacent record pair(s) in the importer's output are in the opposite order in the truth` });
  const out = { har: exp.har, importer_exit: imp.exit, importer_stderr: imp.stderr, streams_imported: imp.streams.map((s) => s.url), findings };
  fs.writeFileSync(path.join(REPORT, exp.har.replace(/\.har$/, '.compare.json')), JSON.stringify(out, null, 1) + '\n');
  md.push(`## ${exp.har} (${exp.browser})`, '');
  md.push(`Importer exit ${imp.exit}${imp.stderr ? `, stderr: \`${imp.stderr}\`` : ''}; ${imp.streams.length} stream(s) imported.`, '');
  if (!findings.length) md.push('No discrepancy.', '');
  else {
    md.push('| stream | what | detail |', '|---|---|---|');
    for (const x of findings) md.push(`| ${x.stream} | ${x.what} | ${x.detail.replace(/\|/g, '\\|')} |`);
    md.push('');
  }
  console.log(`${exp.har}: ${findings.length} finding(s)`);
}
fs.writeFileSync(path.join(REPORT, 'DISCREPANCIES.md'), md.join('\n'));
console.log(`-> ${path.join(REPORT, 'DISCREPANCIES.md')}`);
