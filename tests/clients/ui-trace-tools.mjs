// The trace page's tools (tests/trace_tools.rs seeds a fast and a slow checkout): the ruler and
// the minimap's zoom, find-in-trace (highlight, dim, n, key=value), a span link marked and
// followed, the flame graph's click, and Compare (candidates of the same route, the
// differences). Screenshots at 1280×800 and 1920×1080, light and dark.
//
//   node ui-trace-tools.mjs UI_URL SCREENSHOT_DIR FAST_TRACE SLOW_TRACE
import { mkdirSync } from 'node:fs';
import { launch } from './chromium.mjs';

const [base, dir, fast, slow] = process.argv.slice(2);
if (!base || !dir || !fast || !slow) {
  console.error('usage: node ui-trace-tools.mjs UI_URL SCREENSHOT_DIR FAST_TRACE SLOW_TRACE');
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
      await page.screenshot({ path: `${dir}/trace-${name}-${w}x${h}${scheme === 'dark' ? '-dark' : ''}.png` });
    };
    const spanParam = () => new URL(page.url().replace('#/', '')).searchParams.get('span');
    const first = scheme === 'light' && w === 1280;

    if (first) {
      // The trace list's attribute filters: each Enter adds one, all must match.
      await page.goto(`${base}/#/traces`);
      const attr = () => page.getByPlaceholder('key=value, Enter adds');
      await attr().fill('http.route=/api/checkout');
      await attr().press('Enter');
      await page.waitForFunction(() => location.hash.split('attribute=').length === 2);
      await page.waitForTimeout(300);
      result.oneAttribute = await page.locator('.toolbar .chip.on').allInnerTexts();
      await attr().fill('payment.result=approved');
      await attr().press('Enter');
      await page.waitForFunction(() => location.hash.split('attribute=').length === 3);
      await page.waitForTimeout(500);
      result.twoAttributes = await page.locator('.toolbar .chip.on').allInnerTexts();
      await page.waitForFunction(() => document.querySelectorAll('table.grid tbody tr').length === 1);
      await page.locator('table.grid tbody tr').first().click();
      await page.waitForFunction(() => /#\/traces\/[0-9a-f]{32}/.test(location.hash));
      result.twoAttributesTrace = new URL(page.url()).hash.split('/')[2].split('?')[0];
    }

    await page.goto(`${base}/#/traces/${fast}`);
    await page.locator('.wf-row').first().waitFor();
    await page.locator('.minimap canvas').waitFor();
    result.ticks = await page.locator('.wf-ruler .tick').count();
    result.firstTick = (await page.locator('.wf-ruler .tick').allInnerTexts())[1];

    // Find: the authorization, highlighted; the others dimmed.
    const find = page.getByLabel('Find in trace');
    await find.fill('authorize');
    await page.locator('.wf-row.match').first().waitFor();
    result.findCount = await page.locator('.trace-tools [aria-live]').innerText();
    result.matchRows = await page.locator('.wf-row.match').count();
    result.dimRows = await page.locator('.wf-row.dim').count();
    await shot('find');
    if (first) {
      await find.press('Escape');
      await find.fill('authorize');
      await page.locator('body').click({ position: { x: 5, y: h - 5 } });
      await page.keyboard.press('n');
      await page.waitForFunction(() => location.hash.includes('span='));
      result.afterN = spanParam();
      await find.fill('payment.result=approved');
      await page.locator('.wf-row.match').first().waitFor();
      result.findKeyValue = await page.locator('.trace-tools [aria-live]').innerText();
      await find.fill('');

      // Zoom: drag across the minimap's first half; the ruler starts later; then show all.
      const track = page.locator('.minimap-track');
      const box = await track.boundingBox();
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
      await page.mouse.up();
      await page.getByRole('button', { name: /^Show all/ }).waitFor();
      result.ticksAfterZoom = (await page.locator('.wf-ruler .tick').allInnerTexts())[1];
      await shot('zoomed');
      await page.getByRole('button', { name: /^Show all/ }).click();
      await page.getByRole('button', { name: /^Show all/ }).waitFor({ state: 'detached' });
      result.zoomReset = true;

      // The link: marked on the insert's row, followed from its details.
      const linked = page.locator('.wf-row', { hasText: 'INSERT orders' });
      result.linkMark = await linked.locator('.wf-link').innerText();
      await linked.click();
      await page.locator('a', { hasText: slow }).first().click();
      await page.waitForFunction((slow) => location.hash.includes(slow), slow);
      result.followed = decodeURIComponent(new URL(page.url()).hash);
      await page.goto(`${base}/#/traces/${fast}`);
      await page.locator('.wf-row').first().waitFor();
    }

    // The flame graph: the root spans the top row.
    await page.getByRole('tab', { name: 'Flame graph' }).click();
    const flame = page.locator('.flame canvas');
    await flame.waitFor();
    const fb = await flame.boundingBox();
    await page.mouse.click(fb.x + fb.width / 2, fb.y + 8);
    await page.waitForFunction(() => location.hash.includes('span='));
    if (first) result.flameSelected = spanParam();
    await shot('flame');

    // Compare: the other checkout is offered; then the differences.
    await page.getByRole('link', { name: 'Compare…' }).click();
    await page.locator('table[aria-label="Traces of the same operation"] tbody tr').first().waitFor();
    if (first) result.candidates = await page.locator('table[aria-label="Traces of the same operation"] tbody tr').count();
    await page.locator('table[aria-label="Traces of the same operation"] tbody tr').first().click();
    await page.locator('table.compare tbody tr').first().waitFor();
    if (first) {
      result.changes = Object.fromEntries(
        await page.locator('table.compare tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('td')?.innerText.replace(/^.*?(storefront-api|payment-svc|order-svc)\s*/, '').trim(), tr.getAttribute('data-change')])),
      );
      await page.getByLabel('only differences').check();
      result.onlyDifferences = await page.locator('table.compare tbody tr').count();
      await page.getByLabel('only differences').uncheck();
    }
    await shot('compare');
    await ctx.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
