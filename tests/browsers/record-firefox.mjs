#!/usr/bin/env node
// Records the page of common.mjs in headless Firefox ESR against `streamscope serve`, with the
// Network monitor's own HAR auto-export (devtools/client/netmonitor/src/har/har-automation.js):
//   tests/data/har/firefox.har         what HarAutomation wrote to devtools.netmonitor.har.defaultLogDir
//   tests/data/har/firefox.page.json   what the page JS saw (the only per-message truth Firefox gives)
//
// How the auto-export is made to work headless:
// - `-devtools` opens the toolbox for the first tab at startup (headless too); the toolbox starts
//   HarAutomation only when devtools.netmonitor.har.enableAutoExportToFile is true;
// - HarAutomation exports at the top-level document's "dom-complete", once every request it saw
//   has its data and no new request came for devtools.netmonitor.har.pageLoadedTimeout ms. The
//   streams are opened right after the load, so a timeout of 4000 ms lets them run to their end
//   (about 0.6 s) before the export;
// - the page is driven by Marionette (classic WebDriver, a few lines of its TCP protocol below),
//   NOT WebDriver BiDi: with a BiDi session (puppeteer-core, browser: 'firefox') the DevTools
//   network observer throws `can't access property "serial", wsChannel is null`
//   (network-event-actor.js) for every WebSocket handshake, and the HAR has no WebSocket entry.
//
// usage: node record-firefox.mjs [--server http://127.0.0.1:PORT] [--bin PATH] [--out tests/data/har]
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { FIXTURES, arg, startServer, pageRun } from './common.mjs';

const OUT = arg('--out', FIXTURES);
const FIREFOX = arg('--firefox', '/usr/bin/firefox-esr');
fs.mkdirSync(OUT, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Minimal Marionette client: messages are `LEN:JSON`, commands [0, id, name, params]. */
async function marionette(port) {
  const sock = net.connect(port, '127.0.0.1');
  let buf = Buffer.alloc(0);
  const waiting = [];
  let nextId = 1;
  const pending = new Map();
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const colon = buf.indexOf(58); // ':'
      if (colon < 0) return;
      const len = Number(buf.subarray(0, colon).toString());
      if (buf.length < colon + 1 + len) return;
      const msg = JSON.parse(buf.subarray(colon + 1, colon + 1 + len).toString());
      buf = buf.subarray(colon + 1 + len);
      if (Array.isArray(msg) && msg[0] === 1) {
        const p = pending.get(msg[1]);
        pending.delete(msg[1]);
        if (msg[2]) p.reject(new Error(`${msg[2].error}: ${msg[2].message}`)); else p.resolve(msg[3]);
      } else waiting.shift()?.(msg); // the greeting
    }
  });
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  await new Promise((resolve) => waiting.push(resolve));
  const send = (name, params = {}) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    const body = Buffer.from(JSON.stringify([0, id, name, params]));
    sock.write(`${body.length}:`);
    sock.write(body);
  });
  return { send, close: () => sock.destroy() };
}

const PREFS = {
  'devtools.netmonitor.har.enableAutoExportToFile': true,
  'devtools.netmonitor.har.pageLoadedTimeout': 4000,
  'devtools.netmonitor.har.includeResponseBodies': true,
  'devtools.netmonitor.har.defaultFileName': 'firefox-auto-export',
  'devtools.toolbox.selectedTool': 'netmonitor',
  'devtools.netmonitor.persistlog': false,
  'marionette.port': 0, // any free port; Firefox writes it to <profile>/MarionetteActivePort
  // Keep a fresh profile quiet and off the network (nothing but the loopback is reachable here).
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.aboutwelcome.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'app.update.disabledForTesting': true,
  'app.normandy.enabled': false,
  'browser.region.network.url': '',
  'browser.region.update.enabled': false,
  'browser.search.update': false,
  'browser.safebrowsing.update.enabled': false,
  'browser.safebrowsing.downloads.remote.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.captive-portal-service.enabled': false,
  'extensions.update.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'services.settings.server': 'data:,#remote-settings-dummy/v1',
  'browser.newtabpage.enabled': false,
  'browser.ping-centre.telemetry': false,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
};

const server = arg('--server') ? { url: arg('--server'), stop() {} } : await startServer(arg('--bin'));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'har-firefox-'));
const logDir = path.join(profile, 'har-logs');
fs.mkdirSync(logDir);
PREFS['devtools.netmonitor.har.defaultLogDir'] = logDir;
fs.writeFileSync(path.join(profile, 'user.js'),
  Object.entries(PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join(''));

const ff = spawn(FIREFOX, ['-headless', '-devtools', '-marionette', '-no-remote', '-profile', profile, 'about:blank'],
  // Firefox writes startedDateTime in local time with its offset: a +05:30 zone exercises that.
  { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TZ: arg('--tz', 'Asia/Kolkata') } });
let stderr = '';
ff.stderr.on('data', (d) => { stderr += d; });
let client;
try {
  const portFile = path.join(profile, 'MarionetteActivePort');
  for (let i = 0; !fs.existsSync(portFile); i++) {
    if (i > 150) throw new Error(`Firefox did not start Marionette:\n${stderr}`);
    await sleep(100);
  }
  client = await marionette(Number(fs.readFileSync(portFile, 'utf8').trim()));
  const session = await client.send('WebDriver:NewSession', { capabilities: { alwaysMatch: { acceptInsecureCerts: false } } });
  const version = `${session.capabilities.browserName} ${session.capabilities.browserVersion}`;
  await client.send('WebDriver:SetTimeouts', { script: 30000, pageLoad: 30000 });
  await sleep(2000); // let the toolbox (and HarAutomation) come up before the page loads
  await client.send('WebDriver:Navigate', { url: server.url + '/' });
  const run = await client.send('WebDriver:ExecuteAsyncScript', {
    script: `const done = arguments[arguments.length - 1];
      (${pageRun.toString()})().then(done, (e) => done({ error: String(e) }));`,
    args: [],
  });
  const pageLog = run.value;
  if (pageLog.error) throw new Error(pageLog.error);
  let file;
  for (let i = 0; !(file = fs.readdirSync(logDir).find((f) => f.endsWith('.har'))); i++) {
    if (i > 200) throw new Error('no HAR auto-exported within 20 s');
    await sleep(100);
  }
  await sleep(300); // the file is written in one go; make sure it is complete
  fs.copyFileSync(path.join(logDir, file), path.join(OUT, 'firefox.har'));
  fs.writeFileSync(path.join(OUT, 'firefox.page.json'), JSON.stringify({
    browser: version, server: server.url,
    note: 'page: what the page JS saw (common.mjs pageRun); t = performance.timeOrigin + performance.now(), ms',
    page: pageLog,
  }, null, 1) + '\n');
  const sourcesFile = path.join(OUT, 'sources.json');
  const sources = fs.existsSync(sourcesFile) ? JSON.parse(fs.readFileSync(sourcesFile, 'utf8')) : {};
  sources['firefox.har'] = { truth: 'firefox.page.json', writer: 'Firefox netmonitor HAR auto-export (HarAutomation)' };
  fs.writeFileSync(sourcesFile, JSON.stringify(Object.fromEntries(Object.entries(sources).sort()), null, 1) + '\n');
  const wsErrors = (stderr.match(/wsChannel is null/g) || []).length;
  console.log(`${version}: HAR auto-exported as "${file}" -> ${OUT}/firefox.har; page log ${pageLog.log.length} lines`
    + (wsErrors ? `; ${wsErrors} "wsChannel is null" errors` : ''));
  await client.send('WebDriver:DeleteSession').catch(() => {});
} finally {
  client?.close();
  ff.kill('SIGTERM');
  await new Promise((r) => { ff.once('exit', r); setTimeout(r, 5000); });
  server.stop();
  fs.rmSync(profile, { recursive: true, force: true });
}
