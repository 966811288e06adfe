// What the UI shows is the session's own, and right (tests/ui_truth.rs seeds the engine):
// the first frame before Play; another session by the address bar, Back and a pasted link;
// typing as one row per field; requests at their start; the Backend tab following the
// Network tab; the deepest error span picked; not-found and settings pages in `serve` mode
// with no request answered 4xx; Status agreeing with the list. Screenshots at 1280×800 and
// 1920×1080.
//
//   node ui-truth.mjs UI_URL SCREENSHOT_DIR DECLINED_TRACE_ID
//   prints {"failedApiRequests": [...], "typingRows": N, "statusSessions": "N"}
import { mkdirSync } from 'node:fs';
import { launch } from './chromium.mjs';

const [base, dir, declined] = process.argv.slice(2);
if (!base || !dir || !declined) {
  console.error('usage: node ui-truth.mjs UI_URL SCREENSHOT_DIR DECLINED_TRACE_ID');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const check = (ok, what) => {
  if (!ok) throw new Error(what);
};
const result = { failedApiRequests: [] };
const browser = await launch();
try {
  for (const [w, h] of [
    [1280, 800],
    [1920, 1080],
  ]) {
    const page = await browser.newPage({ viewport: { width: w, height: h } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('response', (r) => {
      if (r.url().includes('/api/') && r.status() >= 400) result.failedApiRequests.push(`${r.status()} ${r.url()}`);
    });
    const shot = async (name) => {
      await page.waitForTimeout(300);
      await page.screenshot({ path: `${dir}/truth-${name}-${w}x${h}.png` });
    };
    const frame = () => page.frameLocator('.viewport iframe');
    const title = () => page.locator('.header-bar .title').innerText();

    // Opened from the list: the first page is painted before Play.
    await page.goto(`${base}#/sessions`);
    await page.locator('a.row', { hasText: 'alice@example.com' }).click();
    await frame().getByText('Alpha checkout').waitFor({ timeout: 15000 });
    check((await page.getByRole('button', { name: 'Play' }).count()) === 1, 'the player waits for Play');
    check((await title()) === 'alice@example.com', `alice's session: ${await title()}`);

    // Typing is one row per field, named as the label reads.
    const typing = page.locator('.feed .item', { hasText: 'Typed in' });
    result.typingRows = await typing.count();
    check((await typing.first().innerText()).includes('Typed in “Email”'), `typing row: ${await typing.first().innerText()}`);
    await shot('session');

    // Requests at their start: the two checkouts began 90 ms apart.
    await page.getByRole('tab', { name: 'Network' }).click();
    const rows = page.locator('.network table.grid tbody tr');
    await rows.first().waitFor();
    const at = await rows.locator('td:first-child').allInnerTexts();
    check(at.length === 2 && at[0] === '0:01.0' && at[1] === '0:01.0', `requests at their start: ${at}`);
    const first = await rows.first().innerText();
    check(first.includes('400'), `the declined checkout started first: ${first}`);

    // Picking it in the Network tab is what the Backend tab then shows, on the failing span.
    await rows.first().click();
    await page.getByRole('tab', { name: 'Backend' }).click();
    await page.locator('.wf-row', { hasText: 'authorize card' }).waitFor({ timeout: 10000 });
    const picked = await page.locator('.tab-body h2').first().innerText();
    check(picked === 'authorize card', `the deepest error span is picked: ${picked}`);
    await shot('backend');

    // Another session by the address bar: nothing of Alice's stays.
    await page.goto(`${base}#/sessions/truth-b`);
    await page.locator('.header-bar .title', { hasText: 'bob@example.com' }).waitFor();
    await frame().getByText('Beta help').waitFor({ timeout: 15000 });
    check((await frame().getByText('Alpha checkout').count()) === 0, "Alice's page is not drawn under Bob's");
    const kv = await page.locator('.header-bar .kv').innerText();
    check(/duration\s+3 s/.test(kv), `Bob's duration: ${kv}`);
    check((await page.getByRole('tab', { name: 'Backend', selected: true }).count()) === 0, 'the tab picked in Alice’s session is not kept');
    await shot('other-session');

    // Back: Alice's again, painted.
    await page.goBack();
    await page.locator('.header-bar .title', { hasText: 'alice@example.com' }).waitFor();
    await frame().getByText('Alpha checkout').waitFor({ timeout: 15000 });

    // The header says everything it has, even at 1280 px: no field cut off.
    const header = await page.locator('.header-bar').boundingBox();
    const fields = await page.locator('.header-bar .kv > span, .header-bar .btn').evaluateAll((els) => els.map((e) => [e.innerText, e.getBoundingClientRect().right, e.getBoundingClientRect().width, e.scrollWidth <= e.clientWidth + 1]));
    for (const [text, right, width, whole] of fields) check(right <= header.x + header.width + 1 && width > 0 && whole, `header field cut at ${w}px: ${text}`);
    // Theater: the player takes the page, its drawing grows; t again brings the panels back.
    // The page's drawn size over its own (the player never draws it above 1:1).
    const scale = () => page.locator('.viewport .frame').last().evaluate((f) => f.getBoundingClientRect().width / f.offsetWidth);
    const before = await scale();
    await page.locator('body').press('t');
    await page.locator('.session.theater').waitFor();
    check((await page.locator('.feed').isVisible()) === false, 'theater hides the feed');
    await page.waitForTimeout(300);
    const theater = await scale();
    check(before > 0.99 ? theater > 0.99 : theater > before * 1.2, `theater draws the page larger: ${before} → ${theater}`);
    await shot('session-theater');
    await page.locator('body').press('t');
    await page.locator('.session:not(.theater)').waitFor();
    // The split: the panels' edge dragged up 100 px, and moved by the keyboard; remembered.
    const tabs = () => page.locator('.tabs-area').evaluate((t) => t.getBoundingClientRect().height);
    const h0 = await tabs();
    const edge = await page.getByRole('separator', { name: 'Resize the player and the panels' }).boundingBox();
    await page.mouse.move(edge.x + edge.width / 2, edge.y + edge.height / 2);
    await page.mouse.down();
    await page.mouse.move(edge.x + edge.width / 2, edge.y + edge.height / 2 - 100, { steps: 4 });
    await page.mouse.up();
    const h1 = await tabs();
    check(Math.abs(h1 - h0 - 100) <= 2, `dragged up 100 px: ${h0} → ${h1}`);
    await page.getByRole('separator', { name: 'Resize the player and the panels' }).focus();
    await page.keyboard.press('ArrowDown');
    const h2 = await tabs();
    check(Math.abs(h1 - h2 - 20) <= 2, `ArrowDown gives the panels 20 px less: ${h1} → ${h2}`);
    await page.reload();
    await frame().getByText('Alpha checkout').waitFor({ timeout: 15000 });
    check(Math.abs((await tabs()) - h2) <= 2, 'the split is remembered');
    result.split = [h0, h1, h2];
    await page.getByRole('separator', { name: 'Resize the player and the panels' }).focus();
    await page.keyboard.press('End');
    await page.evaluate(() => localStorage.removeItem('sightline.session.split'));

    // A pasted link to the trace opens on the span that failed.
    await page.goto(`${base}#/traces/${declined}`);
    await page.locator('.wf-row').first().waitFor();
    const span = await page.locator('h2').filter({ hasText: 'authorize card' }).count();
    check(span === 1, 'the trace view opens on authorize card');
    await shot('trace');

    // Statistics: own time per service and operation; the cause's row in payment-svc.
    await page.getByRole('tab', { name: 'Statistics' }).click();
    const statRow = page.locator('table.stats tbody tr', { hasText: 'authorize card' });
    await statRow.waitFor();
    check((await statRow.locator('td').first().innerText()).includes('payment-svc'), 'authorize card is payment-svc\'s');
    await shot('trace-statistics');
    // The job that ran beside it in payment-svc, and payment-svc's colour in both traces.
    const colour = () =>
      page.locator('.wf-row', { hasText: 'payment-svc' }).first().locator('.dot').evaluate((d) => getComputedStyle(d).backgroundColor);
    const here = await colour();
    await page.getByRole('tab', { name: /Overlapping traces/ }).click();
    const beside = page.locator('table[aria-label^="Traces of the same services"] tbody tr a');
    await beside.first().waitFor();
    result.overlapping = await beside.first().getAttribute('href');
    await shot('trace-overlapping');
    await beside.first().click();
    await page.locator('.header-bar .title', { hasText: 'settle batch' }).waitFor();
    await page.locator('.wf-row', { hasText: 'payment-svc' }).first().waitFor();
    result.sameColour = (await colour()) === here;

    // An unknown address says so; settings say where they live under `serve`.
    await page.goto(`${base}#/nowhere`);
    await page.getByText('Nothing at #/nowhere').waitFor();
    await page.goto(`${base}#/settings`);
    await page.getByText('No settings here').waitFor();
    await shot('settings-serve');

    // Status counts the sessions the list shows, and says what it does not.
    await page.goto(`${base}#/status`);
    const card = page.locator('.card', { hasText: 'Sessions' }).locator('.v');
    await card.waitFor();
    result.statusSessions = await card.innerText();
    await page.getByText('named only by backend spans or logs').waitFor();

    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    await page.close();
  }
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
