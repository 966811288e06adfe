// What an incident window caught, in the UI, in Debian's Chromium (after incident-scenario.mjs
// ran against the same engine): the incident's page (sessions, failing requests, traces,
// logs), a failing request's captured headers and bodies in the session's Network tab with
// the redactions shown as such, the window shaded on the replay's scrubber, and the
// "incident only" filters of Sessions, Traces and Logs. Saves screenshots.
//
//   node ui-incident-capture.mjs UI_URL INCIDENT_ID SCREENSHOT_DIR
//
// Prints {"sessions": n, "failing": n, "headers": {...}, "redactedShown": n, "bands": n,
//         "filtered": {"sessions": n, "traces": n, "logs": n}, "shaded": n}.
import { mkdirSync } from 'node:fs';
import { launch } from './chromium.mjs';

const [base, incident, dir] = process.argv.slice(2);
if (!base || !incident || !dir) {
  console.error('usage: node ui-incident-capture.mjs UI_URL INCIDENT_ID SCREENSHOT_DIR');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const shot = (name) => page.screenshot({ path: `${dir}/incident-${name}.png` });

  // The incident's page.
  await page.goto(`${base}#/incidents/${incident}`);
  await page.locator('.header-bar .title', { hasText: 'checkout declines' }).waitFor({ timeout: 10000 });
  const sections = page.locator('.incident-page section');
  await sections.nth(0).locator('tbody tr').first().waitFor();
  await sections.nth(1).locator('tbody tr').first().waitFor();
  await sections.nth(3).locator('.logline').first().waitFor();
  const sessions = await sections.nth(0).locator('tbody tr').count();
  const failing = await sections.nth(1).locator('tbody tr').count();
  await shot('1-page');

  // A failing request it caught: the session's Network tab, the request's details.
  await sections.nth(1).locator('tbody tr').first().click();
  const details = page.getByLabel('Request details');
  await details.waitFor({ timeout: 10000 });
  await details.locator('.captured').waitFor({ timeout: 10000 });
  const headers = {};
  for (const row of await details.locator('.req-section').first().locator('tr').all()) {
    headers[await row.locator('th').innerText()] = await row.locator('td').innerText();
  }
  const redactedShown = await details.locator('.redacted').count();
  const bodies = await details.locator('pre.body').allInnerTexts();
  const bands = await page.locator('.scrubber .band.incident').count();
  await shot('2-request');

  // The filters: only what the window caught.
  const filtered = {};
  await page.goto(`${base}#/sessions?incident=any`);
  await page.locator('.chip.on', { hasText: 'Incident only' }).waitFor();
  await page.locator('.list a.row').first().waitFor({ timeout: 10000 });
  filtered.sessions = await page.locator('.list a.row').count();
  await shot('3-sessions');
  await page.goto(`${base}#/traces?incident=any`);
  await page.locator('.chip.on', { hasText: 'Incident only' }).waitFor();
  await page.locator('table.grid tbody tr').first().waitFor({ timeout: 10000 });
  filtered.traces = await page.locator('table.grid tbody tr').count();
  await page.goto(`${base}#/logs`);
  await page.locator('.logrow').first().waitFor({ timeout: 10000 });
  const shaded = await page.locator('.logrow.in-incident').count();
  const edges = await page.locator('.window-edge').count();
  await shot('4-logs');
  await page.getByRole('button', { name: 'Incident only' }).click();
  await page.waitForURL(/incident=any/);
  await page.locator('.logrow').first().waitFor();
  filtered.logs = await page.locator('.logrow').count();

  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  console.log(JSON.stringify({ sessions, failing, headers, redactedShown, bodies, bands, filtered, shaded, edges }));
} finally {
  await browser.close();
}
