// The README's demo walkthrough screenshots, taken of the real UI once the demo's scenarios
// are in (tests/demo.rs runs this after its checks): the Sessions list, the declined payment's
// session with its failing request, that request's backend trace, and the timed-out order.
//
//   node demo-screenshots.mjs ENGINE_UI SCREENSHOT_DIR DECLINED_SESSION DECLINED_TRACE TIMEOUT_SESSION
//
// Prints {} when every screen showed what it should.
import { launch } from './chromium.mjs';

const [ui, dir, declined, trace, timeout] = process.argv.slice(2);
if (!ui || !dir || !declined || !trace || !timeout) {
  console.error('usage: node demo-screenshots.mjs ENGINE_UI DIR DECLINED_SESSION DECLINED_TRACE TIMEOUT_SESSION');
  process.exit(2);
}
const base = `http://${ui}/`;
const browser = await launch();
try {
  const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const shot = async (name) => {
    await page.waitForTimeout(400);
    await page.screenshot({ path: `${dir}/${name}.png` });
  };

  // The sessions the shopper left, with their signals.
  await page.goto(`${base}#/sessions`);
  await page.locator('a.row').nth(4).waitFor({ timeout: 15000 });
  await shot('demo-4-sessions');

  // The declined payment: the replay, the feed, the failing request and its backend.
  await page.goto(`${base}#/sessions/${encodeURIComponent(declined)}`);
  await page.locator('.viewport iframe').waitFor({ timeout: 15000 });
  await page.getByRole('tab', { name: 'Network' }).click();
  await page.locator('table.grid tbody tr', { hasText: '400' }).click();
  await page.getByRole('button', { name: 'Backend trace →' }).click();
  await page.locator('.wf-row', { hasText: 'authorize card' }).click({ timeout: 10000 });
  await page.getByText('card_declined').first().waitFor();
  await page.locator('.logline', { hasText: 'declined by the issuer' }).waitFor();
  await shot('demo-5-session-declined');

  // Its trace: browser → storefront-api → payment-svc → fraud-svc, the error span picked.
  await page.goto(`${base}#/traces/${trace}`);
  await page.locator('.wf-row', { hasText: 'authorize card' }).click();
  await page.getByText('card_declined').first().waitFor();
  await shot('demo-6-trace-declined');

  // The order that timed out: the 5 s insert, in order-svc.
  await page.goto(`${base}#/sessions/${encodeURIComponent(timeout)}`);
  await page.locator('.viewport iframe').waitFor({ timeout: 15000 });
  await page.getByRole('tab', { name: 'Network' }).click();
  await page.locator('table.grid tbody tr', { hasText: '500' }).click();
  await page.getByRole('button', { name: 'Backend trace →' }).click();
  await page.locator('.wf-row', { hasText: 'INSERT orders' }).click({ timeout: 10000 });
  await page.getByText('database is locked').first().waitFor();
  await shot('demo-7-session-timeout');

  // The services' own metrics: order-svc's inserts by outcome, the one that waited out the lock.
  await page.goto(`${base}#/metrics?service=order-svc&name=db.client.operation.duration&range=15m&groupBy=error.type`);
  await page.locator('.metric-head h2', { hasText: 'db.client.operation.duration' }).waitFor({ timeout: 15000 });
  await page.locator('.heatmap canvas').waitFor();
  await shot('demo-8-metrics');

  // Services: span counts beside the HTTP servers' requests, errors and p95.
  await page.goto(`${base}#/services`);
  await page.locator('table.grid tbody tr', { hasText: 'order-svc' }).waitFor({ timeout: 15000 });
  await shot('demo-9-services');

  // Logs: "lock" finds "locked" (word starts), the record's details beside the list.
  await page.goto(`${base}#/logs?q=lock`);
  await page.locator('.logrow', { hasText: 'database is locked' }).first().click({ timeout: 15000 });
  await page.getByRole('complementary', { name: 'Log details' }).locator('.log-body').waitFor();
  await shot('demo-10-logs');

  // The declined checkout compared with another checkout of the same route.
  await page.goto(`${base}#/compare?a=${trace}`);
  await page.locator('table[aria-label="Traces of the same operation"] tbody tr').first().click({ timeout: 15000 });
  await page.locator('table.compare tbody tr').first().waitFor();
  await shot('demo-11-compare');

  // Its flame graph.
  await page.goto(`${base}#/traces/${trace}?view=flame`);
  await page.locator('.flame canvas').waitFor();
  await shot('demo-12-flame');

  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
} finally {
  await browser.close();
}
console.log('{}');
