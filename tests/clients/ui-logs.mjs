// The Logs view as a user meets it (tests/logs_api.rs seeds five records): search by word
// starts (the default), whole words and substrings; a record's details with its attributes,
// resource and scope; an attribute clicked into a filter, two at once, one removed; the
// keyboard (j, Enter, Escape). Screenshots at 1280×800 and 1920×1080, light and dark.
//
//   node ui-logs.mjs UI_URL SCREENSHOT_DIR
//   prints what the page showed
import { mkdirSync } from 'node:fs';
import { launch } from './chromium.mjs';

const [base, dir] = process.argv.slice(2);
if (!base || !dir) {
  console.error('usage: node ui-logs.mjs UI_URL SCREENSHOT_DIR');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const result = { failedApiRequests: [], pageErrors: [] };
const browser = await launch();
try {
  for (const [w, h, scheme] of [
    [1280, 800, 'light'],
    [1920, 1080, 'light'],
    [1280, 800, 'dark'],
  ]) {
    const ctx = await browser.newContext({ viewport: { width: w, height: h }, colorScheme: scheme });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => result.pageErrors.push(String(e)));
    page.on('response', (r) => {
      if (r.url().includes('/api/') && r.status() >= 400) result.failedApiRequests.push(`${r.status()} ${r.url()}`);
    });
    const shot = async (name) => {
      await page.waitForTimeout(300);
      await page.screenshot({ path: `${dir}/logs-${name}-${w}x${h}${scheme === 'dark' ? '-dark' : ''}.png` });
    };
    const bodies = () => page.locator('.logrow pre').allInnerTexts();
    const waitRows = (n) => page.waitForFunction((n) => document.querySelectorAll('.logrow').length === n, n);
    const search = async (text) => {
      const box = page.getByPlaceholder('Search body and attributes');
      await box.fill(text);
      await box.press('Enter');
    };

    await page.goto(`${base}/#/logs`);
    await waitRows(5);
    const first = scheme === 'light' && w === 1280;
    if (first) {
      // Word starts by default: "retry" finds "retrying".
      await search('retry');
      await waitRows(1);
      result.prefix = await bodies();
      // Whole words: it does not.
      await page.getByLabel('Match').selectOption('words');
      await page.locator('.state h2', { hasText: 'No log matches' }).waitFor();
      result.wordsUrl = decodeURIComponent(new URL(page.url()).hash);
      // Anywhere: "ying" inside the word.
      await page.getByLabel('Match').selectOption('substring');
      await search('ying');
      await waitRows(1);
      result.substring = await bodies();
      await page.goto(`${base}/#/logs`);
      await waitRows(5);
    }

    // A record's details, and its attributes as filters.
    await page.locator('.logrow', { hasText: 'charge failed' }).click();
    const panel = page.getByRole('complementary', { name: 'Log details' });
    await panel.locator('.log-body').waitFor();
    result.detail = await panel.innerText();
    await shot('details');
    if (first) {
      await panel.getByRole('button', { name: 'Filter by decline.code' }).click();
      await page.waitForFunction(() => location.hash.includes('attribute='));
      await waitRows(1);
      await page.locator('.logrow', { hasText: 'charge failed' }).click();
      await panel.getByRole('button', { name: 'Filter by session.id' }).click();
      await page.waitForFunction(() => location.hash.split('attribute=').length === 3);
      await waitRows(1);
      result.twoFilters = {
        hash: decodeURIComponent(new URL(page.url()).hash),
        chips: await page.locator('.toolbar .chip.on').allInnerTexts(),
        bodies: await bodies(),
      };
      await shot('filtered');
      // A reload keeps both; removing one keeps the other.
      await page.reload();
      await waitRows(1);
      await page.locator('.toolbar .chip.on', { hasText: 'session.id=shopper' }).click();
      await page.waitForFunction(() => location.hash.split('attribute=').length === 2);
      result.afterRemove = decodeURIComponent(new URL(page.url()).hash);

      // The keyboard: j selects the next line, Enter opens it, Escape closes it.
      await page.goto(`${base}/#/logs`);
      await waitRows(5);
      await page.locator('body').press('j');
      await page.locator('body').press('j');
      await page.locator('body').press('Enter');
      await panel.locator('.log-body').waitFor();
      result.keyboardOpened = await panel.locator('.log-body').innerText();
      await page.locator('body').press('Escape');
      await panel.waitFor({ state: 'detached' });
      result.keyboardClosed = true;
    }
    await ctx.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
