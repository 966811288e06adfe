// An attacker's page in the developer's browser (tests/csrf.rs serves it on another port):
// it tries to start an incident window over everyone, run SQL and pin a session on the
// engine's UI address with the requests any page may send (fetch no-cors, a Blob body, a
// form), and to frame the UI. Prints what the page saw.
//
//   node csrf-page.mjs EVIL_PAGE_URL        prints {"attempts": N, "framed": bool, "frames": [...]}
import { launch } from './chromium.mjs';

const [evil] = process.argv.slice(2);
if (!evil) {
  console.error('usage: node csrf-page.mjs EVIL_PAGE_URL');
  process.exit(2);
}
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(evil);
  await page.waitForFunction(() => window.attacked === true, null, { timeout: 15000 });
  // Give the form and the frame time to land.
  await page.waitForTimeout(1500);
  const frames = [];
  let framed = false;
  for (const f of page.frames()) {
    if (f === page.mainFrame()) continue;
    const text = await f.evaluate(() => document.body?.innerText ?? '').catch(() => '');
    frames.push({ url: f.url(), text: text.slice(0, 80) });
    if (/Sightline|Sessions/.test(text)) framed = true;
  }
  console.log(JSON.stringify({ attempts: await page.evaluate(() => window.attempts), framed, frames }));
} finally {
  await browser.close();
}
