// The desktop app's Settings page and the ingest switch, in Debian's Chromium: pause from the
// Status page (a banner appears; Resume clears it), change a tray preference and save it, and
// try a port another program holds (refused, with the reason on screen). Saves screenshots.
//
//   node ui-settings.mjs UI_URL SCREENSHOT_DIR BUSY_PORT      prints {"refused": "…"}
import { mkdirSync } from 'node:fs';
import { launch } from './chromium.mjs';

const [base, dir, busy] = process.argv.slice(2);
if (!base || !dir || !busy) {
  console.error('usage: node ui-settings.mjs UI_URL SCREENSHOT_DIR BUSY_PORT');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  await page.goto(`${base}#/status`);
  await page.getByRole('button', { name: 'Pause ingest' }).click();
  await page.locator('.banner', { hasText: 'Ingest is paused' }).waitFor({ timeout: 10000 });
  await page.locator('.nav .engine', { hasText: 'ingest paused' }).waitFor();
  await page.screenshot({ path: `${dir}/ingest-paused.png` });
  await page.locator('.banner').getByRole('button', { name: 'Resume ingest' }).click();
  await page.locator('.banner', { hasText: 'Ingest is paused' }).waitFor({ state: 'detached', timeout: 10000 });

  await page.getByRole('link', { name: 'Settings' }).click();
  const tray = page.getByLabel('Keep running in the tray');
  await tray.waitFor({ timeout: 10000 });
  await tray.check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('.notice.ok', { hasText: 'Saved and applied' }).waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${dir}/settings-saved.png` });

  const http = page.getByLabel(/OTLP\/HTTP port/);
  await http.fill(busy);
  await page.getByRole('button', { name: 'Save' }).click();
  const refusal = page.locator('.notice.error');
  await refusal.waitFor({ timeout: 10000 });
  const refused = await refusal.innerText();
  await page.screenshot({ path: `${dir}/settings-refused.png` });
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  console.log(JSON.stringify({ refused }));
} finally {
  await browser.close();
}
