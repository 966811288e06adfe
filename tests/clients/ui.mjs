// Drives Sightline's UI in Debian's Chromium through a failing checkout: the session list, the
// session with its rage-click annotation, the failing request's backend waterfall and error
// log, the trace view, back to the replay at that moment, and an example SQL query. Each step
// checks what is on screen and saves a screenshot.
//
//   node ui.mjs http://127.0.0.1:UI_PORT/ SCREENSHOT_DIR      prints {"steps": […]}
import { mkdirSync } from 'node:fs';
import { launch } from './chromium.mjs';

const [base, dir] = process.argv.slice(2);
if (!base || !dir) {
  console.error('usage: node ui.mjs UI_URL SCREENSHOT_DIR');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const steps = [];
const browser = await launch();
try {
  for (const scheme of ['light', 'dark']) {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: scheme });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const shot = async (name) => {
      await page.waitForTimeout(300);
      await page.screenshot({ path: `${dir}/${name}-${scheme}.png` });
      steps.push(`${name}-${scheme}`);
    };

    // The list shows the shopper's session with its signals.
    await page.goto(`${base}#/sessions`);
    const row = page.locator('a.row', { hasText: 'ada@example.com' });
    await row.waitFor({ timeout: 15000 });
    await row.locator('.badge.warn').waitFor();
    await shot('1-sessions');

    // The session: the replay, the feed, and the rage click annotated with why it fired.
    await row.click();
    await page.locator('.viewport iframe').waitFor({ timeout: 15000 });
    await page.locator('.scrubber .mark.frustration').first().waitFor();
    const rage = page.locator('.feed .item', { hasText: 'rage click' });
    await rage.first().waitFor();
    const why = await rage.first().locator('.why').innerText();
    if (!/clicks within/.test(why)) throw new Error(`the rage click says why: got ${why}`);
    await shot('2-session');

    // The failing request, then its backend: the waterfall with the error span, and the log.
    await page.getByRole('tab', { name: 'Network' }).click();
    await page.locator('table.grid tbody tr', { hasText: '402' }).click();
    // The request's details (outside an incident window: no payloads), then its backend.
    await page.getByLabel('Request details').getByText('captured only inside an').waitFor();
    await page.getByRole('button', { name: 'Backend trace →' }).click();
    await page.locator('.wf-row', { hasText: 'POST /api/checkout' }).waitFor({ timeout: 10000 });
    await page.locator('.wf-row .ellipsis', { hasText: 'charge card' }).waitFor();
    await page.locator('.logline', { hasText: 'card declined' }).waitFor();
    const details = await page.locator('.tab-body h2').first().innerText();
    if (!/charge card/.test(details)) throw new Error(`the failing span is selected: got ${details}`);
    await shot('3-backend');

    // The trace view, and back to the replay at the moment the trace started.
    await page.getByRole('link', { name: 'Open trace' }).click();
    await page.locator('.header-bar .title', { hasText: 'POST /api/checkout' }).waitFor();
    await page.locator('.wf-row').first().waitFor();
    await shot('4-trace');
    await page.getByRole('link', { name: 'Open replay at this moment' }).first().click();
    await page.waitForURL(/#\/sessions\/[^?]+\?t=/);
    await page.locator('.viewport iframe').waitFor();
    // The link names the moment the trace started, and the player is there.
    const t = Number(new URL(page.url().replace('#/', '')).searchParams.get('t')?.replace(/s$/, '')) * 1000;
    const at = Number(await page.getByRole('slider', { name: 'Replay position' }).getAttribute('aria-valuenow'));
    if (!(t > 0) || Math.abs(at - t) > 100) throw new Error(`the replay opens where the trace starts (${t} ms), not at ${at} ms`);
    await shot('5-replay-at-trace');

    // An example SQL query, ready to run: the rage click is counted on its page.
    await page.getByRole('link', { name: 'SQL' }).click();
    await page.locator('.facet', { hasText: /^Rage clicks by page$/ }).click();
    const cell = page.locator('table.results tbody tr').first();
    await cell.waitFor();
    const text = await cell.innerText();
    if (!/127\.0\.0\.1/.test(text)) throw new Error(`the rage click's page is in the answer: ${text}`);
    await shot('6-sql');

    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    await page.close();
  }
  console.log(JSON.stringify({ steps }));
} finally {
  await browser.close();
}
