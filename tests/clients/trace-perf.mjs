// A large trace in the trace page, timed as a user feels it: time to interactive (navigation to
// the first rows painted with the span count shown), scrolling from the top to the last row
// (frame times), find (typing a query to its count), and switching to the flame graph. Prints
// the figures; `cargo bench --bench ui` runs it and compares rounds, tests only check it works.
//
//   node trace-perf.mjs UI_URL TRACE_ID SCREENSHOT_DIR ROUNDS
import { mkdirSync } from 'node:fs';
import { launch } from './chromium.mjs';

const [base, traceId, dir, rounds = '3'] = process.argv.slice(2);
if (!base || !traceId || !dir) {
  console.error('usage: node trace-perf.mjs UI_URL TRACE_ID SCREENSHOT_DIR ROUNDS');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const result = { pageErrors: [], rounds: [] };
const browser = await launch();
try {
  for (let round = 0; round < Number(rounds); round++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => result.pageErrors.push(String(e)));
    const r = {};
    const t0 = Date.now();
    await page.goto(`${base}/#/traces/${traceId}`);
    await page.locator('.wf-row').first().waitFor({ timeout: 120_000 });
    const spans = page.locator('.header-bar .kv span', { hasText: 'spans' }).locator('b');
    await spans.waitFor();
    r.interactiveMs = Date.now() - t0;
    result.spans = await spans.innerText();
    // Scroll to the end in steps of ten viewports, a frame apart, timing each frame (every step
    // lands on rows not drawn before).
    const scroll = await page.evaluate(async () => {
      const el = document.querySelector('.wf');
      const frames = [];
      const start = performance.now();
      let last = start;
      while (el.scrollTop + el.clientHeight < el.scrollHeight - 2) {
        el.scrollTop += el.clientHeight * 10;
        await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
        const now = performance.now();
        frames.push(now - last);
        last = now;
      }
      frames.sort((a, b) => a - b);
      const q = (p) => frames[Math.min(frames.length - 1, Math.floor(p * frames.length))] ?? 0;
      return { steps: frames.length, totalMs: performance.now() - start, p50: q(0.5), p95: q(0.95), max: frames[frames.length - 1] ?? 0 };
    });
    r.scroll = scroll;
    const rows = await page.locator('.wf-row').count();
    result.lastRowReached = rows > 0 && (await page.locator('.wf-row', { hasText: 'step 39' }).count()) > 0;
    // Find one span among all of them.
    const t1 = Date.now();
    await page.getByLabel('Find in trace').fill('step.index=19999');
    await page.locator('.trace-tools [aria-live]', { hasText: 'match' }).waitFor();
    r.findMs = Date.now() - t1;
    result.findCount = await page.locator('.trace-tools [aria-live]').innerText();
    await page.getByLabel('Find in trace').fill('');
    // The flame graph: drawn in one canvas pass.
    const t2 = Date.now();
    await page.getByRole('tab', { name: 'Flame graph' }).click();
    await page.locator('.flame canvas').waitFor();
    await page.evaluate(() => new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res))));
    r.flameMs = Date.now() - t2;
    result.flameDrawn = (await page.locator('.flame canvas').evaluate((c) => c.width > 0 && c.height > 0));
    if (round === 0) await page.screenshot({ path: `${dir}/trace-20000-flame-1280x800.png` });
    result.rounds.push(r);
    await ctx.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
