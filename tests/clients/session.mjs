// A shopper's session at human pace, for measuring replay storage: browses a product grid,
// scrolls, hovers, searches (masked input), opens products, adds to cart, and moves between
// SPA routes, for SECONDS seconds.
//
//   node session.mjs PAGE_URL SECONDS     prints {"sessionId": …}
import { launch } from './chromium.mjs';

const [url, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg ?? 180);
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  await page.waitForFunction(() => window.Sightline !== undefined);
  const end = Date.now() + seconds * 1000;
  const pause = (ms) => page.waitForTimeout(ms);
  let round = 0;
  while (Date.now() < end) {
    round++;
    // Look around: move across the grid, scroll down and back.
    for (let i = 0; i < 6; i++) {
      await page.mouse.move(100 + ((i * 173 + round * 37) % 1000), 150 + ((i * 97) % 500), { steps: 12 });
      await pause(250);
    }
    await page.mouse.wheel(0, 600);
    await pause(600);
    await page.mouse.wheel(0, -300);
    await pause(400);
    // Search (a masked input), open a product, add it to the cart.
    await page.fill('#search', '');
    await page.type('#search', `shoe ${round}`, { delay: 90 });
    await pause(500);
    const product = `#p-${(round * 7) % 48}`;
    await page.click(`${product} .open`);
    await pause(900);
    await page.click('#modal .add');
    await pause(700);
    await page.click('#modal .close');
    await pause(400);
    // Move between routes of the single-page app.
    await page.click(round % 2 ? '#nav-cart' : '#nav-shop');
    await pause(1200);
    await page.click('#nav-shop');
    await pause(800);
  }
  const sessionId = await page.evaluate(async () => {
    await window.Sightline.flush();
    return window.Sightline.sessionId;
  });
  console.log(JSON.stringify({ sessionId, rounds: round }));
} finally {
  await browser.close();
}
