// Drives a page that loads Sightline's recorder, in Debian's Chromium: types a secret into
// masked fields, rage-clicks a button, calls the backend, and flushes the recorder.
//
//   node browser.mjs http://127.0.0.1:PORT/ [CHECKOUT_STATUS]     prints {"sessionId": …}
//
// CHECKOUT_STATUS (default 200) is what the backend is expected to answer the checkout with.
import { launch } from './chromium.mjs';

const [url, expected = '200'] = process.argv.slice(2);
if (!url) {
  console.error('usage: node browser.mjs PAGE_URL');
  process.exit(2);
}
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  page.on('console', (m) => console.error(`[page ${m.type()}] ${m.text()}`));
  page.on('response', (r) => { if (r.status() >= 400) console.error(`[page] ${r.status()} ${r.url()}`); });
  page.on('requestfailed', (r) => console.error(`[page] failed ${r.url()} ${r.failure()?.errorText}`));
  await page.goto(url);
  await page.waitForFunction(() => window.Sightline !== undefined);
  await page.fill('#password', 'hunter2-SECRET-4711');
  await page.fill('#card', '4111-SECRET-1111');
  await page.fill('#note', 'plain-SECRET-note');
  // Five fast clicks on a control that does nothing: a rage click (and dead clicks).
  for (let i = 0; i < 5; i++) await page.click('#rage', { delay: 0 });
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/checkout')),
    page.click('#checkout'),
  ]);
  if (response.status() !== Number(expected)) throw new Error(`checkout answered ${response.status()}, not ${expected}`);
  await page.waitForSelector('#result:has-text("order")');
  const sessionId = await page.evaluate(async () => {
    await window.Sightline.flush();
    // Pages that run the OpenTelemetry web SDK export their browser spans too. Its fetch
    // instrumentation ends a request's span only after waiting (up to 300 ms) for the request's
    // resource-timing entry, so give it time to end before flushing.
    if (window.otelProvider) {
      await new Promise((r) => setTimeout(r, 1000));
      await window.otelProvider.forceFlush();
    }
    return window.Sightline.sessionId;
  });
  const otel = await page.evaluate(() => typeof window.otelProvider);
  console.error(`[page] OpenTelemetry web SDK: ${otel}`);
  console.log(JSON.stringify({ sessionId }));
} finally {
  await browser.close();
}
