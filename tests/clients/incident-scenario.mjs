// Incident mode end to end in Debian's Chromium: a 60-second window scoped to one user, that
// user's failing checkout (enriched), a second user's checkout in the same minute (not), then
// capture back to normal without a reload, both when the window is stopped and when a short
// window runs out. The backend is instrumented with the OpenTelemetry JS SDK and honours
// `X-Incident-Mode-Until` (incident-backend.mjs).
//
//   node incident-scenario.mjs ENGINE_OTLP_HTTP ENGINE_UI     (host:port each)
//
// Prints {sessionA, sessionB, first, short, secretsSent}: the two sessions, the two windows'
// ids, and which secrets appeared in what the recorder sent (it must be none).
import zlib from 'node:zlib';
import { launch } from './chromium.mjs';
import { startBackend } from './incident-backend.mjs';

const [engine, ui] = process.argv.slice(2);
if (!engine || !ui) {
  console.error('usage: node incident-scenario.mjs ENGINE_OTLP_HTTP ENGINE_UI');
  process.exit(2);
}
const SECRETS = ['tok-SECRET-77', '4111-SECRET-1111', 'SECRET-cookie'];

async function startWindow(body) {
  const r = await fetch(`http://${ui}/api/v1/incidents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, startedBy: 'api' }),
  });
  if (r.status !== 201) throw new Error(`starting a window: ${r.status} ${await r.text()}`);
  return (await r.json()).id;
}

const backend = await startBackend(engine);
const browser = await launch();
const sent = [];
try {
  async function open(user) {
    const page = await (await browser.newContext()).newPage();
    page.on('console', (m) => console.error(`[${user} ${m.type()}] ${m.text()}`));
    // Everything the recorder sends, as Sightline receives it (gzip or not).
    await page.route('**/v1/replay', (route) => {
      const raw = route.request().postDataBuffer();
      if (raw) {
        try {
          sent.push(zlib.gunzipSync(raw).toString());
        } catch {
          sent.push(raw.toString());
        }
      } else {
        console.error('[scenario] a replay batch without a readable body');
      }
      return route.continue();
    });
    const asked = page.waitForResponse((r) => r.url().includes('/v1/incident-mode'));
    await page.goto(`${backend.url}/?user=${user}`);
    await page.waitForFunction(() => window.Sightline !== undefined);
    await asked;
    return page;
  }
  async function pay(page, attempt) {
    await page.click('button');
    await page.waitForSelector(`#result:has-text("${attempt}: 402")`);
    // The network event of a captured request waits for its body to be read.
    await page.waitForTimeout(300);
    await page.evaluate(() => window.Sightline.flush());
  }
  const incident = (page) => page.evaluate(() => window.Sightline.incident?.id ?? null);

  // 1. A 60-second window for one user.
  const first = await startWindow({ seconds: 60, user: 'incident-user', label: 'checkout declines' });
  const a = await open('incident-user');
  const b = await open('other-user');
  await page_is(a, first);
  await page_is(b, null);

  // 2. The user's failing checkout, and a second user's in the same minute.
  await pay(a, 1);
  await pay(b, 1);

  // 7a. The window is stopped: the next answer says so, and capture is normal, no reload.
  const stop = await fetch(`http://${ui}/api/v1/incidents/${first}/stop`, { method: 'POST' });
  if (!stop.ok) throw new Error(`stop: ${stop.status}`);
  await a.evaluate(() => console.error('after the stop'));
  await a.evaluate(() => window.Sightline.flush());
  await page_is(a, null);
  await pay(a, 2);

  // 7b. A short window: learned with the next batch's answer, then it runs out on its own.
  const short = await startWindow({ seconds: 5, user: 'incident-user' });
  await a.evaluate(() => console.error('during the short window'));
  await a.evaluate(() => window.Sightline.flush());
  await page_is(a, short);
  await pay(a, 3);
  await a.waitForFunction(() => window.Sightline.incident === null, null, { timeout: 15000 });
  await pay(a, 4);

  const ids = await Promise.all([a, b].map((p) => p.evaluate(() => window.Sightline.sessionId)));
  const secretsSent = SECRETS.filter((s) => sent.some((body) => body.includes(s)));
  console.log(JSON.stringify({ sessionA: ids[0], sessionB: ids[1], first, short, secretsSent, batches: sent.length }));

  async function page_is(page, id) {
    await page.waitForFunction((want) => (window.Sightline.incident?.id ?? null) === want, id, { timeout: 10000 }).catch(async () => {
      throw new Error(`the recorder's window is ${await incident(page)}, not ${id}`);
    });
  }
} finally {
  await browser.close();
  await backend.close();
}
