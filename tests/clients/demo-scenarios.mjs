// The demo storefront's five bugs, driven in Debian's Chromium as a shopper would hit them. The
// demo is started the way a new user starts it: Sightline's empty Sessions page, "Try the demo".
//
//   node demo-scenarios.mjs ENGINE_UI SCREENSHOT_DIR        (ENGINE_UI: host:port)
//
// Prints {storefront, scenarios: {normal, declined, timeout, doubleClick, validation, deadClick}}, each
// with the session id and what the page saw (requests to /api/checkout, toasts, messages).
import { launch } from './chromium.mjs';

const [ui, shots] = process.argv.slice(2);
if (!ui || !shots) {
  console.error('usage: node demo-scenarios.mjs ENGINE_UI SCREENSHOT_DIR');
  process.exit(2);
}
const VIEWPORT = { width: 1280, height: 820 };
const GOOD_CARD = '4242 4242 4242 4242';
const DECLINED_CARD = '4000 0000 0000 0002';

const browser = await launch();
const result = { scenarios: {} };
const pages = [];
try {
  // A new user: the empty state offers the demo, and the button opens the shop.
  const home = await (await browser.newContext({ viewport: VIEWPORT })).newPage();
  await home.goto(`http://${ui}/#/sessions`);
  const button = home.getByRole('button', { name: 'Try the demo' });
  await button.waitFor();
  await home.screenshot({ path: `${shots}/demo-1-empty-state.png` });
  const [shop] = await Promise.all([home.context().waitForEvent('page'), button.click()]);
  await shop.waitForLoadState();
  await shop.locator('[data-product]').first().waitFor({ state: 'attached' });
  result.storefront = new URL(shop.url()).origin;
  await shop.close();

  async function shopper(name) {
    const page = await (await browser.newContext({ viewport: VIEWPORT })).newPage();
    page.on('console', (m) => console.error(`[${name} ${m.type()}] ${m.text()}`));
    page.on('requestfailed', (r) => console.error(`[${name}] failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('pageerror', (e) => console.error(`[${name}] page error: ${e.message}`));
    const checkouts = [];
    page.on('request', (r) => r.url().endsWith('/api/checkout') && checkouts.push(Date.now()));
    await page.goto(result.storefront);
    await page.waitForFunction(() => window.Sightline !== undefined);
    try {
      await page.locator('[data-product]').first().waitFor();
    } catch (e) {
      console.error(`[${name}] the shop did not show its products:`, (await page.locator('main').innerText().catch(() => '')).slice(0, 500));
      throw e;
    }
    const session = await page.evaluate(() => window.Sightline.sessionId);
    pages.push(page);
    return { page, session, checkouts };
  }
  const add = async (page, id) => {
    await page.click(`[data-product=${id}] button`);
    await page.locator(`[data-product=${id}] button`, { hasText: 'Added' }).waitFor();
  };
  const toCheckout = async (page) => {
    await page.click('a.cart-link');
    await page.getByRole('link', { name: 'Checkout', exact: true }).last().click();
    await page.getByRole('heading', { name: 'Checkout' }).waitFor();
  };
  const fill = async (page, { zip = '94110', card = GOOD_CARD } = {}) => {
    await page.fill('input[name=email]', 'ada@fernhill.test');
    await page.fill('input[name=name]', 'Ada Lovelace');
    await page.fill('input[name=address]', '12 Analytical Row');
    await page.fill('input[name=city]', 'San Francisco');
    await page.fill('input[name=zip]', zip);
    await page.fill('input[name=card]', card);
    await page.fill('input[name=expiry]', '12/29');
    await page.fill('input[name=cvc]', '123');
  };
  const place = (page) => page.getByRole('button', { name: /Place order/ });

  // 0. A normal purchase, as a person fills a long form: a click into each field, then typing
  // (not Playwright's fill), a promo code, the order placed and confirmed. Nothing went wrong,
  // so Sightline must say nothing went wrong.
  {
    const s = await shopper('normal');
    await add(s.page, 'mug');
    await add(s.page, 'notebook');
    await s.page.click('a.cart-link');
    await s.page.click('input[aria-label="Promo code"]');
    await s.page.keyboard.type('WELCOME10', { delay: 40 });
    await s.page.getByRole('button', { name: 'Apply' }).click();
    await s.page.getByText('WELCOME10 applied').waitFor();
    await s.page.getByRole('link', { name: 'Checkout', exact: true }).last().click();
    await s.page.getByRole('heading', { name: 'Checkout' }).waitFor();
    const fields = [
      ['email', 'grace@fernhill.test'], ['name', 'Grace Hopper'], ['address', '1 Compiler Way'],
      ['city', 'Arlington'], ['zip', '22201'], ['card', GOOD_CARD], ['expiry', '11/30'], ['cvc', '321'],
    ];
    for (const [name, value] of fields) {
      await s.page.click(`input[name=${name}]`);
      await s.page.keyboard.type(value, { delay: 25 });
      await s.page.waitForTimeout(150);
    }
    await place(s.page).click();
    await s.page.getByRole('heading', { name: /Order #\d+ is confirmed/ }).waitFor();
    // Past every rule's window, so a signal would have fired.
    await s.page.waitForTimeout(3000);
    result.scenarios.normal = { session: s.session, checkouts: s.checkouts.length };
  }

  // 1. Payment declined: a promo code first, then the declined test card; a toast says so.
  {
    const s = await shopper('declined');
    await s.page.screenshot({ path: `${shots}/demo-2-storefront.png` });
    await add(s.page, 'mug');
    await add(s.page, 'tote');
    await s.page.click('a.cart-link');
    await s.page.fill('input[aria-label="Promo code"]', 'WELCOME10');
    await s.page.getByRole('button', { name: 'Apply' }).click();
    await s.page.getByText('WELCOME10 applied').waitFor();
    await s.page.getByRole('link', { name: 'Checkout', exact: true }).last().click();
    await fill(s.page, { card: DECLINED_CARD });
    await place(s.page).click();
    const toast = s.page.locator('.toast.error');
    await toast.waitFor();
    result.scenarios.declined = { session: s.session, toast: await toast.innerText(), checkouts: s.checkouts.length };
    await s.page.screenshot({ path: `${shots}/demo-3-storefront-declined.png` });
  }

  // 2. Order timeout: the next order meets the inventory sync's lock (armed as the bug guide's
  // button does), so the order fails after order-svc's 5 s wait.
  {
    const s = await shopper('timeout');
    const armed = await fetch(`${result.storefront}/demo/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ slowNextOrder: true }),
    });
    if (!armed.ok) throw new Error(`arming the slow order: ${armed.status}`);
    await add(s.page, 'tee');
    await toCheckout(s.page);
    await fill(s.page);
    await place(s.page).click();
    const toast = s.page.locator('.toast.error');
    await toast.waitFor({ timeout: 30_000 });
    result.scenarios.timeout = { session: s.session, toast: await toast.innerText(), checkouts: s.checkouts.length };
  }

  // 3. Double-click race: "Place order" twice, 150 ms apart, while the first is in flight.
  {
    const s = await shopper('double-click');
    await add(s.page, 'candle');
    await toCheckout(s.page);
    await fill(s.page);
    const button = place(s.page);
    await button.click();
    await s.page.waitForTimeout(150);
    await button.click();
    await s.page.getByRole('heading', { name: /Order #\d+ is confirmed/ }).waitFor();
    // Both answers are in before the session is read back.
    await s.page.waitForTimeout(1500);
    result.scenarios.doubleClick = {
      session: s.session,
      checkouts: s.checkouts.length,
      clickGapMs: s.checkouts.length === 2 ? s.checkouts[1] - s.checkouts[0] : null,
    };
  }

  // 4. Silent validation: a Canadian postal code; the message flashes for 2 s, nothing is sent.
  {
    const s = await shopper('validation');
    await add(s.page, 'notebook');
    await toCheckout(s.page);
    await fill(s.page, { zip: 'K1A 0B1' });
    await place(s.page).click();
    const message = s.page.locator('.field-error');
    await message.waitFor();
    const text = await message.innerText();
    await message.waitFor({ state: 'detached', timeout: 10_000 });
    result.scenarios.validation = { session: s.session, message: text, checkouts: s.checkouts.length };
  }

  // 5. Dead control: "Estimate shipping" looks like a button and does nothing.
  {
    const s = await shopper('dead-click');
    await add(s.page, 'cap');
    await s.page.click('a.cart-link');
    await s.page.click('[data-testid=estimate-shipping]');
    // Longer than the dead-click window (1 s by default) with nothing happening.
    await s.page.waitForTimeout(2000);
    result.scenarios.deadClick = { session: s.session, checkouts: s.checkouts.length };
  }

  // Everything recorded reaches Sightline: the recorder's last batches, the web SDK's spans.
  for (const page of pages) await page.evaluate(() => window.Sightline.flush());
  await new Promise((r) => setTimeout(r, 1500));
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
