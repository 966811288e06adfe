// Incident windows in the UI, in Debian's Chromium: start one for a user from the Incidents
// page (label and ticket), see the banner and its countdown on every page, extend it, stop it
// from the banner, and find it in the history as stopped. Saves screenshots.
//
//   node ui-incidents.mjs UI_URL SCREENSHOT_DIR      prints {"id": "…", "banner": "…"}
import { mkdirSync } from 'node:fs';
import { launch } from './chromium.mjs';

const [base, dir] = process.argv.slice(2);
if (!base || !dir) {
  console.error('usage: node ui-incidents.mjs UI_URL SCREENSHOT_DIR');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  await page.goto(`${base}#/incidents`);
  await page.getByText('No incident windows yet').waitFor({ timeout: 10000 });
  await page.getByLabel('Who it covers').selectOption('user');
  await page.getByLabel('User', { exact: true }).fill('ada@example.com');
  await page.getByLabel('Minutes', { exact: true }).fill('20');
  await page.getByLabel('Label', { exact: true }).fill('checkout declines');
  await page.getByLabel('Ticket', { exact: true }).fill('https://tracker.test/BUG-42');
  await page.getByRole('button', { name: 'Start' }).click();
  const banner = page.locator('.banner.incident');
  await banner.waitFor({ timeout: 10000 });
  const text = await banner.innerText();
  if (!/checkout declines/.test(text) || !/user ada@example.com/.test(text) || !/(19|20):\d\d left/.test(text))
    throw new Error(`the banner names the window and counts down: ${text}`);
  const row = page.locator('table.grid tbody tr', { hasText: 'checkout declines' });
  await row.locator('.badge', { hasText: 'active' }).waitFor();
  const id = (await row.locator('.mono').innerText()).split(' ')[0];
  await page.screenshot({ path: `${dir}/incidents-active.png` });

  // The banner is on every page; extend from it, then stop from it.
  await page.getByRole('link', { name: 'Sessions' }).click();
  await banner.waitFor();
  await banner.getByRole('button', { name: '+15 min' }).click();
  await page.locator('.banner.incident', { hasText: /3\d:\d\d left/ }).waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${dir}/incident-banner.png` });
  await banner.getByRole('button', { name: 'Stop' }).click();
  await banner.waitFor({ state: 'detached', timeout: 10000 });

  await page.getByRole('link', { name: 'Incidents' }).first().click();
  await row.locator('.badge', { hasText: 'stopped' }).waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${dir}/incidents-history.png` });
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  console.log(JSON.stringify({ id, banner: text }));
} finally {
  await browser.close();
}
