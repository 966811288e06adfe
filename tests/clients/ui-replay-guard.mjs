// Opens a session whose recording points at an attacker's server (tests/replay_guard.rs
// seeds it and counts what that server hears), paints it, plays it through its later
// mutations, and reads what the player says it left out. Screenshots at 1280×800 and
// 1920×1080.
//
//   node ui-replay-guard.mjs UI_URL SCREENSHOT_DIR SESSION_ID     prints {"note": "…"}
import { mkdirSync } from 'node:fs';
import { launch } from './chromium.mjs';

const [base, dir, id] = process.argv.slice(2);
if (!base || !dir || !id) {
  console.error('usage: node ui-replay-guard.mjs UI_URL SCREENSHOT_DIR SESSION_ID');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const result = {};
const browser = await launch();
try {
  for (const [w, h] of [
    [1280, 800],
    [1920, 1080],
  ]) {
    const page = await browser.newPage({ viewport: { width: w, height: h } });
    page.on('pageerror', (e) => console.error(`[page] ${e}`));
    await page.goto(`${base}#/sessions/${encodeURIComponent(id)}`);
    const frame = page.frameLocator('.viewport iframe');
    await frame.getByText('Guarded shop').waitFor({ timeout: 15000 });
    await page.getByRole('button', { name: 'Play' }).click();
    // The mutation at +1 s changes the paragraph; wait for it, then past the end.
    await frame.getByText('Order placed').waitFor({ timeout: 15000 });
    await page.waitForTimeout(2500);
    // No note is an answer too (the Rust side says what it means): read it without failing.
    result.note = await page
      .getByText(/outside resources? not loaded/)
      .first()
      .innerText({ timeout: 2000 })
      .catch(() => null);
    await page.screenshot({ path: `${dir}/replay-guard-${w}x${h}.png` });
    await page.close();
  }
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
