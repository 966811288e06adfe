// Records the labelled corpus of browser sessions in tests/fixtures/corpus/: each entry is one
// session, recorded by a real recorder in Debian's Chromium while Playwright acts as a person,
// with the frustration labels a person would give it (none for most).
//
//   cd tests/clients && npm ci
//   (cd ../../ui && npm ci && npm run build:recorder)        # ui/dist/recorder/sightline.js
//   node corpus-record.mjs OUT_DIR [DEMO_ENGINE_BINARY] [--only REGEX]
//
// OUT_DIR receives <name>.json.gz per session (see tests/fixtures/corpus/README.md for the
// format). The recorders: Sightline's (ui/dist/recorder/sightline.js), rrweb's own record() with
// rrweb's console plugin (corpus/rrweb-glue.mjs) and an OpenTelemetry logs agent in the session-replay semantic-event
// scheme (corpus/otel-agent.mjs); the pages are corpus/pages, served by corpus/server.mjs, which
// captures what the recorders send. With DEMO_ENGINE_BINARY (a built `sightline`), the demo
// shop sessions are recorded too: `sightline demo` runs on free ports with a temporary data dir,
// and the recorder's /v1/replay requests (and the page's OTLP trace exports) are captured from the
// page as the real engine receives them.
//
// --only REGEX (or --only=REGEX) re-records just the fixtures whose names match REGEX (a
// JavaScript regular expression, unanchored) and leaves every other file in OUT_DIR untouched,
// e.g. `--only 'rrweb$'` for the rrweb sessions, which need no DEMO_ENGINE_BINARY. Each session
// paces from a seed taken from its name, so a partial run paces as a full one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { launch } from './chromium.mjs';
import { startSite } from './corpus/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

const USAGE = 'usage: node corpus-record.mjs OUT_DIR [DEMO_ENGINE_BINARY] [--only REGEX]';
const positional = [];
let only;
for (const args = process.argv.slice(2); args.length; ) {
  const a = args.shift();
  if (a === '--only') {
    if (!args.length) {
      console.error(`--only needs a REGEX\n${USAGE}`);
      process.exit(2);
    }
    only = args.shift();
  } else if (a.startsWith('--only=')) {
    only = a.slice('--only='.length);
  } else if (a.startsWith('--')) {
    console.error(`unknown option ${a}\n${USAGE}`);
    process.exit(2);
  } else {
    positional.push(a);
  }
}
const [outDir, engineBinary] = positional;
if (!outDir || positional.length > 2) {
  console.error(USAGE);
  process.exit(2);
}
let onlyRe;
try {
  onlyRe = only === undefined ? null : new RegExp(only);
} catch (e) {
  console.error(`--only: ${e.message}`);
  process.exit(2);
}
const wanted = (name) => !onlyRe || onlyRe.test(name);
fs.mkdirSync(outDir, { recursive: true });

// ── Versions, for each fixture's "made" ────────────────────────────────────────────────────
const pkgVersion = (name, from = here) => {
  try {
    return JSON.parse(fs.readFileSync(path.join(from, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
};
const uiDir = path.join(repo, 'ui');
let commit = 'unknown';
try {
  commit = execFileSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {
  // not a checkout
}

// ── The recorders' scripts ─────────────────────────────────────────────────────────────────
const sightlineJs = path.join(uiDir, 'dist/recorder/sightline.js');
if (!fs.existsSync(sightlineJs)) {
  console.error(`${sightlineJs} is missing: cd ui && npm ci && npm run build:recorder`);
  process.exit(2);
}
const bundle = async (entry) =>
  (await esbuild.build({ entryPoints: [path.join(here, 'corpus', entry)], bundle: true, format: 'iife', target: 'es2020', minify: true, write: false, logLevel: 'warning' })).outputFiles[0].text;
const scripts = {
  '/sightline.js': fs.readFileSync(sightlineJs, 'utf8'),
  '/rrweb-glue.js': await bundle('rrweb-glue.mjs'),
  '/otel-agent.js': await bundle('otel-agent.mjs'),
};

const VIEWPORT = { width: 1280, height: 800 };
const browser = await launch();
const chromiumVersion = browser.version();
const MADE = {
  sightline: `corpus-record.mjs; Sightline's recorder ui/dist/recorder/sightline.js (repo ${commit}, @rrweb/record ${pkgVersion('@rrweb/record', uiDir)}); Chromium ${chromiumVersion}; playwright-core ${pkgVersion('playwright-core')}; gzip bodies stored gunzipped`,
  rrweb: `corpus-record.mjs; rrweb ${pkgVersion('rrweb')} record() (maskAllInputs) with @rrweb/rrweb-plugin-console-record ${pkgVersion('@rrweb/rrweb-plugin-console-record')} (default options) via corpus/rrweb-glue.mjs, a batch every 2 s; Chromium ${chromiumVersion}; playwright-core ${pkgVersion('playwright-core')}`,
  'otel-logs': `corpus-record.mjs; corpus/otel-agent.mjs (session-replay semantic events) on @opentelemetry/sdk-logs ${pkgVersion('@opentelemetry/sdk-logs')} + exporter-logs-otlp-http ${pkgVersion('@opentelemetry/exporter-logs-otlp-http')} (BatchLogRecordProcessor, 1 s); Chromium ${chromiumVersion}; playwright-core ${pkgVersion('playwright-core')}`,
};

// ── A person's pace ────────────────────────────────────────────────────────────────────────
// A seeded generator, so that a rerun paces the same way.
let seed = 0x5eed;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const between = (lo, hi) => Math.round(lo + random() * (hi - lo));
const pause = (page, lo = 100, hi = 400) => page.waitForTimeout(between(lo, hi));
/** Each session paces from its own seed, so that one rerun with --only paces as a full run. */
const reseed = (name) => {
  seed = [...name].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 0x5eed);
};

/** Where the mouse is (each session starts with it here). */
let hand = { x: 640, y: 400 };
/** Waits as a person does: the hand drifts a little now and then, nothing is clicked. */
async function linger(page, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const step = between(500, 900);
    if (Date.now() + step >= end) break;
    await page.waitForTimeout(step);
    hand = { x: hand.x + between(-6, 6), y: hand.y + between(-4, 4) };
    await page.mouse.move(hand.x, hand.y, { steps: between(2, 4) });
  }
  await page.waitForTimeout(Math.max(0, end - Date.now()));
}
/** The hand comes onto the page. */
async function enter(page) {
  hand = { x: between(520, 760), y: between(320, 480) };
  await page.mouse.move(hand.x, hand.y, { steps: between(4, 8) });
}
/** Moves the mouse to a point of the element (near its middle, as a hand would), in steps. */
async function pointAt(page, target, { dx = 0, dy = 0 } = {}) {
  const locator = typeof target === 'string' ? page.locator(target) : target;
  await locator.waitFor({ state: 'visible' });
  await locator.scrollIntoViewIfNeeded();
  const box = await locator.boundingBox();
  const x = box.x + box.width / 2 + between(-Math.min(12, box.width / 5), Math.min(12, box.width / 5)) + dx;
  const y = box.y + box.height / 2 + between(-Math.min(4, box.height / 5), Math.min(4, box.height / 5)) + dy;
  await page.mouse.move(x, y, { steps: between(6, 14) });
  hand = { x, y };
  return { x, y };
}
/** A person's click: move there, settle, press and release. */
async function click(page, target, options = {}) {
  const { x, y } = await pointAt(page, target);
  await pause(page, 80, 220);
  await page.mouse.click(x, y, { delay: between(50, 110), ...options });
  return { x, y };
}
/** Types as a person does, a key at a time. */
async function type(page, text) {
  await page.keyboard.type(text, { delay: between(60, 120) });
}
/** Clicks into a field, then types into it. */
async function clickAndType(page, target, text) {
  await click(page, target);
  await pause(page, 150, 350);
  await type(page, text);
  await pause(page, 200, 400);
}

// ── The recorders, from the page's side ────────────────────────────────────────────────────
const RECORDER = {
  sightline: {
    ready: () => window.Sightline !== undefined,
    session: () => window.Sightline.sessionId,
    flush: () => window.Sightline.flush(),
  },
  rrweb: {
    ready: () => window.corpusRrweb !== undefined,
    session: () => window.corpusRrweb.sessionId,
    flush: () => window.corpusRrweb.flush(),
  },
  'otel-logs': {
    ready: () => window.corpusOtel !== undefined,
    session: () => window.corpusOtel.sessionId,
    flush: () => window.corpusOtel.flush(),
  },
};

/** Whether a captured request carries this session's data. */
function ofSession(body, sessionId) {
  if (body?.sessionId === sessionId) return true;
  const has = (attrs) => (attrs ?? []).some((a) => a.key === 'session.id' && a.value?.stringValue === sessionId);
  for (const rl of body?.resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) for (const r of sl.logRecords ?? []) if (has(r.attributes)) return true;
  for (const rs of body?.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) if (has(s.attributes)) return true;
  return false;
}

function writeFixture(fixture) {
  const file = path.join(outDir, `${fixture.name}.json.gz`);
  fs.writeFileSync(file, zlib.gzipSync(JSON.stringify(fixture), { level: 9 }));
  const events = fixture.requests.reduce((n, r) => n + (r.body.events?.length ?? 0), 0);
  console.error(`wrote ${file}: ${fixture.requests.length} requests${events ? `, ${events} rrweb events` : ''}, ${fs.statSync(file).size} bytes`);
}

// ── The sessions on the test site ──────────────────────────────────────────────────────────
// Each: the page, the recorders it is recorded with, what the person does, and the labels a
// person gives it.
/** The slow-button sessions: one click on "Generate report", then the user waits and reads. */
async function readReport(page) {
  await pause(page, 600, 900);
  await click(page, page.getByRole('button', { name: 'Generate report' }));
  await page.getByRole('heading', { name: 'March, by region' }).waitFor();
  await pause(page, 1000, 1500);
  await pointAt(page, page.locator('table'));
}

const SCENARIOS = [
  {
    base: 'spa',
    recorders: ['sightline', 'rrweb', 'otel-logs'],
    path: '/spa/',
    description: 'On a client-routed shop (pushState links, one hash route) the user opens Products, searches for "lamp", opens About us and fills in and submits the newsletter form, then opens Help (hash route) and goes Home.',
    labels: [],
    async run(page) {
      await pause(page, 600, 900);
      await click(page, page.getByRole('link', { name: 'Products', exact: true }));
      await pause(page, 400, 700);
      await clickAndType(page, page.getByLabel('Search products'), 'lamp');
      await pause(page, 600, 900);
      await click(page, page.getByRole('link', { name: 'About us' }));
      await pause(page, 300, 500);
      await clickAndType(page, page.getByLabel('Your name'), 'Sam Rivera');
      await clickAndType(page, page.getByLabel('Email address'), 'sam.rivera@example.test');
      await click(page, page.getByRole('button', { name: 'Subscribe' }));
      await page.getByText('Thanks, Sam Rivera!').waitFor();
      await pause(page, 800, 1200);
      await click(page, page.getByRole('link', { name: 'Help' }));
      await page.getByRole('heading', { name: 'Help' }).waitFor();
      await pause(page, 800, 1200);
      await click(page, page.getByRole('link', { name: 'Home' }));
      await page.getByRole('heading', { name: 'Light for small rooms' }).waitFor();
    },
  },
  {
    base: 'slow-button-timer',
    recorders: ['sightline', 'rrweb'],
    path: '/report?mode=timer',
    description: 'The user clicks "Generate report" once; the report appears 1.5 s later (a timer, no network request) and nothing changes before it. The user waits and reads it.',
    labels: [],
    run: readReport,
  },
  {
    base: 'slow-button-fetch',
    recorders: ['sightline', 'rrweb'],
    path: '/report?mode=fetch',
    description: 'The user clicks "Generate report" once; the page fetches /api/report, which answers after 1.5 s, and then shows the report (nothing changes before). The user waits and reads it.',
    labels: [],
    run: readReport,
  },
  {
    base: 'text-selection',
    recorders: ['sightline', 'rrweb'],
    path: '/article',
    description: 'On a text page the user triple-clicks the second paragraph to select it, then double-clicks the word "refund" in the third paragraph.',
    labels: [],
    async run(page) {
      await pause(page, 800, 1200);
      const { x, y } = await pointAt(page, '#p2');
      await pause(page, 150, 300);
      await page.mouse.click(x, y, { clickCount: 3, delay: 40 });
      hand = { x, y };
      await pause(page, 1200, 1600);
      // The word's place on screen, from the text itself.
      const word = await page.evaluate(() => {
        const node = document.getElementById('p3').firstChild;
        const at = node.textContent.indexOf('refund');
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + 'refund'.length);
        const r = range.getBoundingClientRect();
        return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
      });
      await page.mouse.move(word.x, word.y, { steps: 10 });
      await pause(page, 150, 300);
      await page.mouse.dblclick(word.x, word.y, { delay: 40 });
      hand = word;
      const selected = await page.evaluate(() => String(getSelection()));
      if (selected.trim() !== 'refund') throw new Error(`double-click selected ${JSON.stringify(selected)}`);
    },
  },
  {
    base: 'download',
    recorders: ['sightline', 'rrweb'],
    path: '/invoices',
    description: 'The user clicks "Download CSV" once (a download link; the server answers a CSV attachment, the page stays), then "Billing guide", a target=_blank link that opens a new tab, reads it and comes back.',
    labels: [],
    async run(page) {
      await pause(page, 800, 1200);
      const [download] = await Promise.all([page.waitForEvent('download'), click(page, page.getByRole('link', { name: 'Download CSV' }))]);
      await download.path();
      await pause(page, 1200, 1600);
      const [tab] = await Promise.all([page.context().waitForEvent('page'), click(page, page.getByRole('link', { name: /Billing guide/ }))]);
      await tab.waitForLoadState();
      await tab.waitForTimeout(1500);
      await tab.close();
      await page.bringToFront();
      await pause(page, 400, 700);
      await pointAt(page, 'table');
    },
  },
  {
    base: 'error-button',
    recorders: ['sightline', 'rrweb', 'otel-logs'],
    path: '/cart',
    description: 'The user types a coupon code and clicks "Apply coupon" once; its click handler throws an uncaught TypeError and nothing on the page changes.',
    labels: [{ signal: 'error_click', target: 'Apply coupon', note: 'The click on "Apply coupon" throws an uncaught error at once and the page never answers it: the error is what the user met.' }],
    async run(page) {
      await pause(page, 700, 1000);
      await clickAndType(page, page.getByLabel('Coupon code'), 'SPRING15');
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await click(page, page.getByRole('button', { name: 'Apply coupon' }));
      await page.waitForTimeout(300);
      if (errors.length !== 1) throw new Error(`expected one page error, saw ${JSON.stringify(errors)}`);
    },
  },
  {
    base: 'rage',
    recorders: ['sightline', 'rrweb', 'otel-logs'],
    path: '/product',
    description: 'Below the reviews, the user clicks "Load more reviews" (a div styled as a button, cursor:pointer, no handler) five times within about 800 ms at about the same point; nothing happens.',
    labels: [{ signal: 'rage_click', target: 'Load more', note: 'Five fast clicks on one spot of a control that never answers: one burst of rage, counted once (not also as dead clicks).' }],
    async run(page) {
      await pause(page, 700, 1000);
      await page.mouse.wheel(0, 500);
      await pause(page, 600, 900);
      const { x, y } = await pointAt(page, '#more');
      await pause(page, 150, 300);
      const started = Date.now();
      for (let i = 0; i < 5; i++) {
        if (i) await page.waitForTimeout(between(110, 140));
        await page.mouse.click(x + between(-2, 2), y + between(-2, 2), { delay: between(30, 45) });
      }
      const took = Date.now() - started;
      if (took > 1000) throw new Error(`the five clicks took ${took} ms`);
    },
  },
  {
    base: 'dead',
    recorders: ['sightline', 'rrweb', 'otel-logs'],
    path: '/product',
    description: 'The user clicks "Show details" (a div styled as a button, cursor:pointer, that does nothing) once, then waits 4 s looking at it.',
    labels: [{ signal: 'dead_click', target: 'Show details', note: 'A control that looks clickable, clicked once, and nothing at all happens in the 4 s the user waits.' }],
    async run(page) {
      await pause(page, 700, 1000);
      await click(page, page.getByText('Show details', { exact: true }));
      await linger(page, 4000);
    },
  },
  {
    base: 'thrash',
    recorders: ['sightline', 'rrweb', 'otel-logs'],
    path: '/notes',
    description: 'On a long release-notes page the user scrolls down a little, then scrolls down and up rapidly eight times within about 1.2 s (mouse wheel, alternating, ~150 ms apart), looking for something.',
    labels: [{ signal: 'thrashing', note: 'Rapid up-and-down scrolling, seven direction changes in about a second: the user is lost on the page.' }],
    async run(page) {
      await pause(page, 700, 1000);
      hand = { x: 640, y: 420 };
      await page.mouse.move(hand.x, hand.y, { steps: 8 });
      for (let i = 0; i < 3; i++) {
        await page.mouse.wheel(0, 400);
        await pause(page, 350, 500);
      }
      await pause(page, 600, 900);
      for (let i = 0; i < 8; i++) {
        await page.mouse.wheel(0, i % 2 === 0 ? 700 : -600);
        await page.waitForTimeout(between(140, 160));
      }
    },
  },
  {
    base: 'long-form',
    recorders: ['sightline', 'rrweb'],
    path: '/checkout',
    description: 'A normal checkout: the user clicks into each of the 10 fields and types (choosing a state in the select), clicks the "Phone" label to focus its field, ticks the "Save my details" checkbox, and places the order; the submit fetches /api/order and a confirmation appears.',
    labels: [],
    async run(page) {
      await pause(page, 800, 1200);
      await clickAndType(page, page.getByLabel('First name'), 'Sam');
      await clickAndType(page, page.getByLabel('Last name'), 'Rivera');
      await clickAndType(page, page.getByLabel('Email'), 'sam.rivera@example.test');
      // The label, not the field: focuses the field.
      await click(page, page.locator('label', { hasText: 'Phone' }).locator('span'));
      await pause(page, 150, 300);
      await type(page, '503 555 0142');
      await pause(page, 200, 400);
      await clickAndType(page, page.getByLabel('Street address'), '1420 Alder Street');
      await clickAndType(page, page.getByLabel('City'), 'Portland');
      await click(page, page.getByLabel('State'));
      await pause(page, 300, 500);
      await page.getByLabel('State').selectOption('Oregon');
      await page.keyboard.press('Escape').catch(() => {});
      await pause(page, 200, 400);
      await clickAndType(page, page.getByLabel('ZIP code'), '97205');
      await clickAndType(page, page.getByLabel('Card number'), '4242 4242 4242 4242');
      await clickAndType(page, page.getByLabel('Delivery notes'), 'Leave it with the neighbour at 1422.');
      await click(page, '#save');
      await pause(page, 300, 500);
      if (!(await page.locator('#save').isChecked())) throw new Error('the checkbox is not ticked');
      await click(page, page.getByRole('button', { name: /Place order/ }));
      await page.getByRole('heading', { name: /Order #\d+ is confirmed/ }).waitFor();
    },
  },
];

async function recordOnSite(site, scenario, recorder) {
  const name = `${scenario.base}-${recorder}`;
  reseed(name);
  const context = await browser.newContext({ viewport: VIEWPORT, acceptDownloads: true });
  await context.addCookies([{ name: 'corpus-rec', value: recorder, url: site.origin }]);
  const page = await context.newPage();
  page.on('console', (m) => m.type() === 'error' && !/Cannot read properties of undefined \(reading 'find'\)/.test(m.text()) && console.error(`[${name} console] ${m.text()}`));
  const from = site.captured.length;
  const r = RECORDER[recorder];
  await page.goto(site.origin + scenario.path);
  await page.waitForFunction(r.ready);
  await page.waitForLoadState('load');
  const sessionId = await page.evaluate(r.session);
  await enter(page);
  await scenario.run(page);
  // Every signal's window has passed, then the last batch goes out.
  await linger(page, 3500);
  await page.evaluate(r.flush);
  await page.waitForTimeout(500);
  await context.close();
  await new Promise((res) => setTimeout(res, 300));
  const requests = site.captured
    .slice(from)
    .filter((c) => ofSession(c.body, sessionId))
    .map((c) => ({ path: c.path, contentType: c.contentType, body: c.body }));
  writeFixture({ name, recorder, sessionId, description: scenario.description, made: MADE[recorder], labels: scenario.labels, requests });
}

// ── The demo shop (Sightline's own), driven as demo-scenarios.mjs does ─────────────────────
const GOOD_CARD = '4242 4242 4242 4242';
const DECLINED_CARD = '4000 0000 0000 0002';

async function startDemo(binary) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'corpus-demo-'));
  const child = spawn(binary, ['demo', '--data-dir', dataDir, '--otlp-grpc', '127.0.0.1:0', '--otlp-http', '127.0.0.1:0', '--ui', '127.0.0.1:0', '--port', '127.0.0.1:0', '--slow-order-chance', '0'], {
    stdio: ['ignore', 'pipe', fs.openSync(path.join(dataDir, 'stderr.log'), 'w')],
  });
  const found = {};
  const lines = createInterface({ input: child.stdout });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sightline demo printed no addresses; see ${dataDir}/stderr.log`)), 60_000);
    child.on('exit', (code) => reject(new Error(`sightline demo exited (${code}); see ${dataDir}/stderr.log`)));
    lines.on('line', (line) => {
      const m = /^([\w-]+)=(.*)$/.exec(line);
      if (m) found[m[1]] = m[2];
      if (found.storefront && found['otlp-http']) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    storefront: found.storefront.replace(/\/$/, ''),
    otlp: `http://${found['otlp-http']}`,
    dataDir,
    stop: () => new Promise((r) => {
      child.once('exit', r);
      child.kill('SIGTERM');
    }),
  };
}

const DEMO = [
  {
    name: 'demo-normal-purchase',
    description: 'In the demo shop the user adds the mug and the tote, applies promo code WELCOME10 in the cart, checks out filling every field (clicking into each, then typing) with a good card, places the order and sees the confirmation.',
    labels: [],
    async run(page, d) {
      await d.add(page, 'mug');
      await d.add(page, 'tote');
      await click(page, 'a.cart-link');
      await clickAndType(page, page.locator('input[aria-label="Promo code"]'), 'WELCOME10');
      await click(page, page.getByRole('button', { name: 'Apply' }));
      await page.getByText('WELCOME10 applied').waitFor();
      await pause(page);
      await click(page, page.getByRole('link', { name: 'Checkout', exact: true }).last());
      await page.getByRole('heading', { name: 'Checkout' }).waitFor();
      await d.fill(page);
      await click(page, d.place(page));
      await page.getByRole('heading', { name: /Order #\d+ is confirmed/ }).waitFor();
    },
  },
  {
    name: 'demo-declined',
    description: 'In the demo shop the user buys the cap, checks out with the declined test card 4000 0000 0000 0002, places the order and reads the "Payment declined" toast.',
    labels: [],
    async run(page, d) {
      await d.add(page, 'cap');
      await d.toCheckout(page);
      await d.fill(page, { card: DECLINED_CARD });
      await click(page, d.place(page));
      await page.locator('.toast.error').waitFor();
    },
  },
  {
    name: 'demo-timeout',
    description: 'In the demo shop (the next order armed to time out via POST /demo/faults) the user buys the tee, checks out, places the order and waits about 5 s until the "Something went wrong" toast.',
    labels: [],
    async before(demo) {
      const armed = await fetch(`${demo.storefront}/demo/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ slowNextOrder: true }) });
      if (!armed.ok) throw new Error(`arming the slow order: ${armed.status}`);
    },
    async run(page, d) {
      await d.add(page, 'tee');
      await d.toCheckout(page);
      await d.fill(page);
      await click(page, d.place(page));
      await page.locator('.toast.error').waitFor({ timeout: 30_000 });
    },
  },
  {
    name: 'demo-double-order',
    description: 'In the demo shop the user buys the candle, checks out and clicks "Place order" twice, 150 ms apart, while the first request is in flight; the confirmation appears.',
    labels: [],
    async run(page, d) {
      await d.add(page, 'candle');
      await d.toCheckout(page);
      await d.fill(page);
      const { x, y } = await pointAt(page, d.place(page));
      await pause(page, 100, 200);
      await page.mouse.click(x, y, { delay: 60 });
      await page.waitForTimeout(150);
      await page.mouse.click(x, y, { delay: 60 });
      await page.getByRole('heading', { name: /Order #\d+ is confirmed/ }).waitFor();
      await page.waitForTimeout(1500);
    },
  },
  {
    name: 'demo-validation',
    description: 'In the demo shop the user buys the notebook, enters the Canadian postal code K1A 0B1 at checkout and places the order; "Invalid ZIP code" flashes for 2 s and nothing is sent.',
    labels: [],
    async run(page, d) {
      await d.add(page, 'notebook');
      await d.toCheckout(page);
      await d.fill(page, { zip: 'K1A 0B1' });
      await click(page, d.place(page));
      const message = page.locator('.field-error');
      await message.waitFor();
      await message.waitFor({ state: 'detached', timeout: 10_000 });
    },
  },
  {
    name: 'demo-dead-button',
    description: 'In the demo shop the user adds the cap, opens the cart and clicks "Estimate shipping" (styled as a button, wired to nothing) once, then waits 4 s.',
    labels: [{ signal: 'dead_click', target: 'Estimate shipping', note: 'It looks like a button and nothing at all happens in the 4 s the user waits.' }],
    async run(page, d) {
      await d.add(page, 'cap');
      await click(page, 'a.cart-link');
      await pause(page, 500, 800);
      await click(page, '[data-testid=estimate-shipping]');
      await linger(page, 4000);
    },
  },
  {
    name: 'demo-rage',
    description: 'In the demo shop the user adds the mug, opens the cart and clicks "Estimate shipping" (wired to nothing) five times fast, within about 700 ms, at about the same point.',
    labels: [{ signal: 'rage_click', target: 'Estimate shipping', note: 'Five fast clicks on a button that never answers: one burst of rage, counted once (not also as dead clicks).' }],
    async run(page, d) {
      await d.add(page, 'mug');
      await click(page, 'a.cart-link');
      await pause(page, 500, 800);
      const { x, y } = await pointAt(page, '[data-testid=estimate-shipping]');
      await pause(page, 150, 300);
      for (let i = 0; i < 5; i++) {
        if (i) await page.waitForTimeout(between(110, 140));
        await page.mouse.click(x + between(-2, 2), y + between(-2, 2), { delay: between(30, 45) });
      }
    },
  },
];

/** demo-scenarios.mjs's steps, at a person's pace; `fill` clicks into each field, then types. */
const demoSteps = {
  async add(page, id) {
    await click(page, `[data-product=${id}] button`);
    await page.locator(`[data-product=${id}] button`, { hasText: 'Added' }).waitFor();
    await pause(page, 300, 600);
  },
  async toCheckout(page) {
    await click(page, 'a.cart-link');
    await pause(page, 400, 700);
    await click(page, page.getByRole('link', { name: 'Checkout', exact: true }).last());
    await page.getByRole('heading', { name: 'Checkout' }).waitFor();
    await pause(page, 400, 700);
  },
  async fill(page, { zip = '94110', card = GOOD_CARD } = {}) {
    await clickAndType(page, 'input[name=email]', 'ada@fernhill.test');
    await clickAndType(page, 'input[name=name]', 'Ada Lovelace');
    await clickAndType(page, 'input[name=address]', '12 Analytical Row');
    await clickAndType(page, 'input[name=city]', 'San Francisco');
    await clickAndType(page, 'input[name=zip]', zip);
    await clickAndType(page, 'input[name=card]', card);
    await clickAndType(page, 'input[name=expiry]', '12/29');
    await clickAndType(page, 'input[name=cvc]', '123');
  },
  place: (page) => page.getByRole('button', { name: /Place order/ }),
};

async function recordDemo(demo, scenario, made) {
  reseed(scenario.name);
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${scenario.name}] page error: ${e.message}`));
  // What the page sends to the engine, as it sends it; the request then goes on to the engine.
  // (A route, not page.on('request'): Chromium does not report a Blob body, the recorder's
  // gzip batches, to request events, but does to an interception.)
  const sent = [];
  const ingest = (u) => u.origin === demo.otlp && /^\/v1\/(replay|traces|logs)$/.test(u.pathname);
  await page.route(ingest, async (route) => {
    const r = route.request();
    if (r.method() === 'POST') {
      const headers = await r.allHeaders();
      let raw = r.postDataBuffer();
      if (!raw) {
        sent.push({ path: new URL(r.url()).pathname, missing: true });
      } else {
        if (headers['content-encoding'] === 'gzip' || (raw[0] === 0x1f && raw[1] === 0x8b)) raw = zlib.gunzipSync(raw);
        sent.push({ path: new URL(r.url()).pathname, contentType: headers['content-type'] ?? null, body: JSON.parse(raw.toString('utf8')) });
      }
    }
    await route.continue();
  });
  if (scenario.before) await scenario.before(demo);
  await page.goto(demo.storefront);
  await page.waitForFunction(() => window.Sightline !== undefined);
  await page.locator('[data-product]').first().waitFor();
  const sessionId = await page.evaluate(() => window.Sightline.sessionId);
  await enter(page);
  await pause(page, 800, 1200);
  await scenario.run(page, demoSteps);
  await linger(page, 3500);
  await page.evaluate(() => window.Sightline.flush());
  // The web SDK exports its spans every 500 ms; its fetch spans end up to 300 ms late.
  await page.waitForTimeout(1500);
  await context.close();
  const missing = sent.filter((s) => s.missing).length;
  if (missing) throw new Error(`${scenario.name}: ${missing} request bodies were not readable from the page`);
  const requests = sent.filter((s) => ofSession(s.body, sessionId)).map(({ path: p, contentType, body }) => ({ path: p, contentType, body }));
  writeFixture({ name: scenario.name, recorder: 'sightline', sessionId, description: scenario.description, made, labels: scenario.labels, requests });
}

// ── Run ────────────────────────────────────────────────────────────────────────────────────
try {
  const siteNames = SCENARIOS.flatMap((s) => s.recorders.map((r) => `${s.base}-${r}`));
  const demoNames = DEMO.map((s) => s.name);
  if (![...siteNames, ...demoNames].some(wanted)) throw new Error(`--only ${only}: no fixture name matches`);
  if (!engineBinary && demoNames.some(wanted)) console.error(`no DEMO_ENGINE_BINARY: skipping ${demoNames.filter(wanted).join(', ')}`);
  const site = await startSite(scripts);
  try {
    for (const scenario of SCENARIOS) {
      for (const recorder of scenario.recorders) {
        if (wanted(`${scenario.base}-${recorder}`)) await recordOnSite(site, scenario, recorder);
      }
    }
  } finally {
    await site.close();
  }
  if (engineBinary && DEMO.some((s) => wanted(s.name))) {
    const demo = await startDemo(engineBinary);
    let engineVersion = 'unknown';
    try {
      engineVersion = execFileSync(engineBinary, ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      // no --version
    }
    const made = `corpus-record.mjs against \`sightline demo\` (${engineVersion}, repo ${commit}): the demo storefront's own recorder (@rrweb/record ${pkgVersion('@rrweb/record', uiDir)}) and OpenTelemetry web SDK; requests read from the page (page.route interception, then passed on to the engine; gzip bodies stored gunzipped); Chromium ${chromiumVersion}; playwright-core ${pkgVersion('playwright-core')}`;
    try {
      for (const scenario of DEMO) if (wanted(scenario.name)) await recordDemo(demo, scenario, made);
    } finally {
      await demo.stop();
      fs.rmSync(demo.dataDir, { recursive: true, force: true });
    }
  }
} finally {
  await browser.close();
}
