#!/usr/bin/env node
// Records the pages of common.mjs in headless Chromium against `streamscope serve` and writes,
// for the main run (pageRun: EventSource, WebSocket echo, WebSocket feed, fetch SSE):
//   tests/data/har/chromium.cdp.json                raw CDP Network/Page events (+ SSE bodies, page log)
//   tests/data/har/chromium-devtools.har            DevTools' "Export HAR (sanitized)" (the default button)
//   tests/data/har/chromium-devtools-sensitive.har  DevTools' "Export HAR (with sensitive data)"
//   tests/data/har/chromium-chrome-har.har          the npm package chrome-har, fed the same CDP events
// for the error run (pageRunWsErrors: a broken close frame, a 1011 close):
//   tests/data/har/chromium-ws-errors.cdp.json, tests/data/har/chromium-devtools-ws-errors.har (sensitive)
// and for the live run (pageRunLive: streams still open when the HAR is saved):
//   tests/data/har/chromium-live.cdp.json (events up to the export),
//   tests/data/har/chromium-devtools-live.har (sanitized), tests/data/har/chromium-devtools-live-sensitive.har
// plus tests/data/har/sources.json (which truth file goes with which HAR).
//
// The DevTools HARs are written by the real DevTools frontend that ships inside this Chromium
// (devtools://devtools/bundled/devtools_app.html, attached to the page as a second CDP client,
// Network panel open before the page loads, like a person recording), by the same calls as the
// Network panel's export button (NetworkLogView.exportAll).
//
// usage: node record-chromium.mjs [--server http://127.0.0.1:PORT] [--bin PATH] [--out tests/data/har]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { harFromMessages } from 'chrome-har';
import { FIXTURES, arg, startServer, pageRun, pageRunWsErrors, pageRunLive } from './common.mjs';

const OUT = arg('--out', FIXTURES);
const CHROMIUM = arg('--chromium', '/usr/bin/chromium');
fs.mkdirSync(OUT, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const write = (name, value) => fs.writeFileSync(path.join(OUT, name), typeof value === 'string' ? value : JSON.stringify(value, null, 1) + '\n');

const server = arg('--server') ? { url: arg('--server'), stop() {} } : await startServer(arg('--bin'));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'har-chromium-'));
const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  userDataDir: profile,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    // a debugging port for the DevTools frontend to attach to, and its origin allowed on it
    '--remote-debugging-port=0', '--remote-allow-origins=devtools://devtools'],
});
const sources = fs.existsSync(path.join(OUT, 'sources.json')) ? JSON.parse(fs.readFileSync(path.join(OUT, 'sources.json'), 'utf8')) : {};
try {
  const version = await browser.version();
  const page = await browser.newPage();
  await page.goto('about:blank');

  // 1. Our own CDP session on the page: every Network and Page event, raw, in arrival order.
  const cdp = await page.createCDPSession();
  let events = [];
  let bodies = {};
  let pendingBodies = [];
  let collecting = true;
  const mimeOf = {};
  const origEmit = cdp.emit.bind(cdp);
  cdp.emit = (method, params) => {
    if (collecting && typeof method === 'string' && /^(Network|Page)\./.test(method)) {
      events.push({ method, params, received: Date.now() });
      if (method === 'Network.responseReceived') mimeOf[params.requestId] = params.response.mimeType;
      // Stream event-stream bodies to this session too: the bytes come with the dataReceived
      // events (a body that is still open at the export has no getResponseBody).
      if (method === 'Network.responseReceived' && params.response.mimeType === 'text/event-stream') {
        pendingBodies.push(cdp.send('Network.streamResourceContent', { requestId: params.requestId })
          .then((r) => { events.push({ method: 'recorder.streamResourceContent', params: { requestId: params.requestId, ...r }, received: Date.now() }); },
            (e) => { events.push({ method: 'recorder.streamResourceContent', params: { requestId: params.requestId, error: e.message }, received: Date.now() }); }));
      }
      if (method === 'Network.loadingFinished' && mimeOf[params.requestId] === 'text/event-stream') {
        pendingBodies.push(cdp.send('Network.getResponseBody', { requestId: params.requestId })
          .then((b) => { bodies[params.requestId] = b; }, (e) => { bodies[params.requestId] = { error: e.message }; }));
      }
    }
    return origEmit(method, params);
  };
  await cdp.send('Page.enable');
  await cdp.send('Network.enable');
  const { targetInfo } = await cdp.send('Target.getTargetInfo');

  // 2. The real DevTools frontend on the same page, Network panel shown.
  const dt = await browser.newPage();
  const wsHost = new URL(browser.wsEndpoint()).host;
  await dt.goto(`devtools://devtools/bundled/devtools_app.html?ws=${wsHost}/devtools/page/${targetInfo.targetId}`);
  const ready = () => dt.evaluate(async () => {
    const UI = await import('./ui/legacy/legacy.js');
    await UI.InspectorView.InspectorView.instance().showPanel('network');
    const SDK = await import('./core/sdk/sdk.js');
    const t = SDK.TargetManager.TargetManager.instance().primaryPageTarget();
    return Boolean(t?.model(SDK.NetworkManager.NetworkManager));
  }).catch((e) => String(e));
  for (let i = 0, r; (r = await ready()) !== true; i++) {
    if (i > 100) throw new Error(`DevTools frontend not ready: ${r}`);
    await sleep(200);
  }

  // The Network panel's export button runs NetworkLogView.exportAll(): open a file stream,
  // HAR.Writer.Writer.write(stream, this.harRequests(), {sanitize}, progress), close. Here the
  // same with a string stream, because a devtools:// tab is not in "hosted mode" (its file saves
  // go to the embedder, which headless Chromium does not write to disk).
  const exportHar = (sanitize) => dt.evaluate(async (sanitize) => {
    const UI = await import('./ui/legacy/legacy.js');
    const HAR = await import('./models/har/har.js');
    const Common = await import('./core/common/common.js');
    const panel = await UI.InspectorView.InspectorView.instance().panel('network');
    const parts = [];
    const stream = { write: async (chunk) => { parts.push(chunk); }, close: async () => {} };
    await HAR.Writer.Writer.write(stream, panel.networkLogView.harRequests(), { sanitize }, new Common.Progress.Progress());
    return parts.join('');
  }, sanitize);

  // 3. Each run: load a page of the server (this clears the Network panel, as a navigation does
  // without "Preserve log"), run the streams in it, wait for the last events, export.
  const run = async (fn, { live = false } = {}) => {
    events = []; bodies = {}; pendingBodies = []; collecting = true;
    await page.goto(server.url + '/', { waitUntil: 'load' });
    const pageLog = await page.evaluate(fn);
    // Live: freeze the server, so that the streams stay open but quiet while the HAR is saved,
    // and the truth (collected until then) and the HAR hold the same messages.
    if (live) server.pause();
    await sleep(500); // in-flight data, webSocketClosed and loadingFinished arrive after the JS saw them
    await Promise.all(pendingBodies);
    if (live) collecting = false;
    return {
      browser: version, server: server.url, targetId: targetInfo.targetId,
      note: 'events: every Network.* and Page.* CDP event of the page, in arrival order; timestamp is '
        + 'monotonic seconds, wallTime (requestWillBeSent, webSocketWillSendHandshakeRequest) Unix seconds; '
        + 'received: Date.now() in the recorder. bodies: Network.getResponseBody after loadingFinished '
        + 'for text/event-stream responses. page: what the page JS saw (common.mjs).',
      events, bodies, page: pageLog,
    };
  };

  const main = await run(pageRun);
  write('chromium.cdp.json', main);
  write('chromium-devtools.har', await exportHar(true));
  write('chromium-devtools-sensitive.har', await exportHar(false));
  // chrome-har, with the SSE bodies set on the responses as its README says (response.body +
  // includeTextFromResponseBody).
  const forChromeHar = main.events.map(({ method, params }) => {
    const b = main.bodies[params.requestId];
    if (method === 'Network.responseReceived' && b?.body !== undefined) {
      const body = b.base64Encoded ? Buffer.from(b.body, 'base64').toString('utf8') : b.body;
      return { method, params: { ...params, response: { ...params.response, body } } };
    }
    return { method, params: structuredClone(params) };
  });
  write('chromium-chrome-har.har', JSON.stringify(harFromMessages(forChromeHar, { includeTextFromResponseBody: true }), null, 2) + '\n');

  const errs = await run(pageRunWsErrors);
  write('chromium-ws-errors.cdp.json', errs);
  write('chromium-devtools-ws-errors.har', await exportHar(false));

  let live = { events: [] };
  if (server.pause) {
    live = await run(pageRunLive, { live: true });
    write('chromium-devtools-live.har', await exportHar(true));
    write('chromium-devtools-live-sensitive.har', await exportHar(false));
    server.resume();
    await page.evaluate(() => window.__live.close());
    write('chromium-live.cdp.json', live);
  } else {
    console.log('--server given: no live run (it needs to freeze a server this script started)');
  }

  Object.assign(sources, {
    'chromium-devtools-live.har': { truth: 'chromium-live.cdp.json', writer: 'Chrome DevTools, Export HAR (sanitized), streams still open' },
    'chromium-devtools-live-sensitive.har': { truth: 'chromium-live.cdp.json', writer: 'Chrome DevTools, Export HAR (with sensitive data), streams still open' },
    'chromium-devtools.har': { truth: 'chromium.cdp.json', writer: 'Chrome DevTools, Export HAR (sanitized)' },
    'chromium-devtools-sensitive.har': { truth: 'chromium.cdp.json', writer: 'Chrome DevTools, Export HAR (with sensitive data)' },
    'chromium-chrome-har.har': { truth: 'chromium.cdp.json', writer: 'chrome-har (npm) from the same CDP events' },
    'chromium-devtools-ws-errors.har': { truth: 'chromium-ws-errors.cdp.json', writer: 'Chrome DevTools, Export HAR (with sensitive data)' },
  });
  write('sources.json', Object.fromEntries(Object.entries(sources).sort()));
  console.log(`${version}: ${main.events.length} + ${errs.events.length} + ${live.events.length} CDP events -> ${OUT}`);
} finally {
  await browser.close();
  server.stop();
  fs.rmSync(profile, { recursive: true, force: true });
}
