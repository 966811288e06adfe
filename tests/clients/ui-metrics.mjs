// The Metrics and Services views as a user meets them (tests/metrics.rs sends the metrics through
// the official JS SDK first): the instruments by service, a histogram's percentiles, heatmap and
// table, grouping and filtering by attribute, keyboard moves between instruments, the range
// picker (relative and custom, in the URL), the empty and not-found states, and the Services
// view's HTTP columns. Screenshots at 1280×800 and 1920×1080, light and dark.
//
//   node ui-metrics.mjs UI_URL SCREENSHOT_DIR
//   prints what the page showed, for the test to hold against what was sent
import { mkdirSync } from 'node:fs';
import { launch } from './chromium.mjs';

const [base, dir] = process.argv.slice(2);
if (!base || !dir) {
  console.error('usage: node ui-metrics.mjs UI_URL SCREENSHOT_DIR');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const check = (ok, what) => {
  if (!ok) throw new Error(what);
};
const result = { failedApiRequests: [], pageErrors: [] };
const browser = await launch();
const HIST = '#/metrics?service=js-checkout&name=http.server.request.duration&range=1h';
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
      // The not-found instrument is asked for on purpose.
      if (r.url().includes('/api/') && r.status() >= 400 && !r.url().includes('no.such.metric')) result.failedApiRequests.push(`${r.status()} ${r.url()}`);
    });
    const shot = async (name) => {
      await page.waitForTimeout(300);
      await page.screenshot({ path: `${dir}/metrics-${name}-${w}x${h}${scheme === 'dark' ? '-dark' : ''}.png` });
    };
    const rows = async () =>
      page.locator('.metric-detail table.grid').first().locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));

    // Opened with no instrument named: the first one with data is shown, never an empty frame.
    await page.goto(`${base}/#/metrics`);
    await page.locator('.metric-head h2').waitFor();
    check(page.url().includes('name='), `the page opened on an instrument: ${page.url()}`);

    await page.goto(`${base}/${HIST}`);
    await page.locator('.metric-head h2', { hasText: 'http.server.request.duration' }).waitFor();
    await page.locator('.heatmap canvas').waitFor();
    await page.locator('.chart canvas').first().waitFor();
    const services = await page.locator('.inst-service').allInnerTexts();
    result.services = services.map((s) => s.trim());
    result.histogramRows = await rows();
    result.measure = await page.locator('.metric-head').innerText();
    await shot('histogram');

    if (scheme === 'light' && w === 1280) {
      // Grouped by route: a row per route, each with its own percentiles.
      await page.getByLabel('Group by').selectOption('http.route');
      await page.waitForFunction(() => document.querySelectorAll('.metric-detail table.grid tbody tr').length === 2);
      result.groupedRows = await rows();
      check(page.url().includes('groupBy=http.route'), `group-by in the URL: ${page.url()}`);
      await shot('grouped');
      // Filtered to the failing route by its value: one row, and two filters at once.
      await page.getByLabel('Filter http.route').selectOption('/api/checkout');
      await page.waitForFunction(() => document.querySelectorAll('.metric-detail table.grid tbody tr').length === 1);
      await page.getByLabel('Filter http.response.status_code').selectOption('503');
      await page.waitForFunction(() => location.hash.split('attribute=').length === 3);
      result.filteredRows = await rows();
      result.filteredUrl = decodeURIComponent(page.url());
      // A reload keeps what was chosen: it is all in the URL.
      await page.reload();
      await page.waitForFunction(() => document.querySelectorAll('.metric-detail table.grid tbody tr').length === 1);
      result.filteredAfterReload = await rows();

      // The keyboard moves between instruments.
      await page.goto(`${base}/${HIST}`);
      await page.locator('.metric-head h2', { hasText: 'http.server.request.duration' }).waitFor();
      await page.locator('body').click({ position: { x: 600, y: 10 } });
      await page.keyboard.press('j');
      await page.waitForFunction(() => !location.hash.includes('name=http.server.request.duration'));
      result.afterJ = decodeURIComponent(new URL(page.url()).hash);
      await page.keyboard.press('k');
      await page.waitForFunction(() => location.hash.includes('name=http.server.request.duration'));

      // A counter: a rate per second, a line per outcome.
      await page.goto(`${base}/#/metrics?service=js-checkout&name=orders.placed&range=1h`);
      await page.locator('.metric-head h2', { hasText: 'orders.placed' }).waitFor();
      result.counterRows = await rows();
      result.counterHead = await page.locator('.metric-head').innerText();
      await shot('counter');

      // The range picker: a relative range, then a custom one typed in.
      await page.goto(`${base}/${HIST}`);
      await page.locator('.metric-head h2').waitFor();
      await page.locator('.range-picker > button').click();
      await page.getByRole('dialog', { name: 'Time range' }).waitFor();
      await shot('range-picker');
      await page.getByRole('button', { name: 'Last 15 minutes' }).click();
      await page.waitForFunction(() => location.hash.includes('range=15m'));
      result.relativeLabel = await page.locator('.range-picker > button').innerText();
      await page.locator('.range-picker > button').click();
      const pad = (n) => String(n).padStart(2, '0');
      const local = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
      const from = new Date(Date.now() - 30 * 60_000);
      const to = new Date(Date.now() + 5 * 60_000);
      await page.getByLabel('From').fill(local(from));
      await page.getByLabel('To (empty: now)').fill(local(to));
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.waitForFunction(() => location.hash.includes('fromMs=') && location.hash.includes('toMs=') && !location.hash.includes('range='));
      await page.locator('.metric-detail table.grid tbody tr').first().waitFor();
      result.customRows = await rows();
      // An end before the start is refused in words.
      await page.locator('.range-picker > button').click();
      await page.getByLabel('To (empty: now)').fill(local(new Date(from.getTime() - 3_600_000)));
      await page.getByRole('button', { name: 'Apply' }).click();
      result.rangeError = await page.getByRole('alert').innerText();
      await page.keyboard.press('Escape');

      // A range with nothing in it, and an instrument that does not exist: said, not blank.
      await page.goto(`${base}/#/metrics?service=js-checkout&name=http.server.request.duration&fromMs=1000&toMs=2000`);
      result.emptyState = await page.locator('.metric-pane .state h2').innerText();
      await page.goto(`${base}/#/metrics?service=js-checkout&name=no.such.metric&range=1h`);
      result.missingState = await page.locator('.metric-pane .state h2').innerText();

      // The same picker on Sessions, Traces and Logs: in the URL, and sent as fromMs/toMs.
      result.lists = {};
      for (const [view, api] of [
        ['sessions', '/api/v1/sessions?'],
        ['traces', '/api/v1/traces?'],
        ['logs', '/api/v1/logs?'],
      ]) {
        await page.goto(`${base}/#/${view}`);
        await page.locator('.range-picker > button').click();
        const asked = page.waitForRequest((r) => r.url().includes(api) && r.url().includes('fromMs=') && r.url().includes('toMs='));
        await page.getByRole('button', { name: 'Last 6 hours' }).click();
        const req = new URL((await asked).url());
        result.lists[view] = {
          hash: decodeURIComponent(new URL(page.url()).hash),
          spanMs: Number(req.searchParams.get('toMs')) - Number(req.searchParams.get('fromMs')),
          label: await page.locator('.range-picker > button').innerText(),
        };
        if (view === 'traces') await shot('traces-range');
      }
    }

    // Services: the HTTP servers' rate, errors and p95 beside the span counts.
    await page.goto(`${base}/#/services`);
    await page.locator('table.grid tbody tr').first().waitFor();
    result.servicesTable = await page.locator('table.grid tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));
    await shot('services');
    await ctx.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
