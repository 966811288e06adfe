// The UI when its engine stops and comes back, in Debian's Chromium: what was loaded stays,
// a banner says the engine is not answering, and it clears by itself once the engine is back.
//
//   node ui-engine-restart.mjs SIGHTLINE_BIN DATA_DIR UI_PORT      prints {"down": …, "back": …}
import { spawn } from 'node:child_process';
import { launch } from './chromium.mjs';

const [bin, dataDir, port] = process.argv.slice(2);
if (!bin || !dataDir || !port) {
  console.error('usage: node ui-engine-restart.mjs SIGHTLINE_BIN DATA_DIR UI_PORT');
  process.exit(2);
}
const start = () =>
  spawn(bin, ['serve', '--data-dir', dataDir, '--otlp-grpc', '127.0.0.1:0', '--otlp-http', '127.0.0.1:0', '--ui', `127.0.0.1:${port}`], { stdio: 'ignore' });
const ready = async () => {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/api/v1/status`)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the engine did not start');
};

let server = start();
const browser = await launch();
try {
  await ready();
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`http://127.0.0.1:${port}/#/sessions`);
  await page.locator('.setup h2', { hasText: 'No sessions yet' }).waitFor({ timeout: 15000 });
  server.kill('SIGTERM');
  await page.locator('.banner', { hasText: 'not answering' }).waitFor({ timeout: 20000 });
  // Read once the banner is up, and again a moment later: an answer to a status asked for
  // before the engine stopped must not paint it as receiving.
  await page.waitForTimeout(1500);
  const down = await page.locator('.nav .engine').innerText();
  if (!(await page.locator('.setup h2').isVisible())) throw new Error('what was loaded stays on screen');
  server = start();
  await ready();
  await page.locator('.banner').waitFor({ state: 'detached', timeout: 30000 });
  const back = await page.locator('.nav .engine').innerText();
  console.log(JSON.stringify({ down, back }));
} finally {
  server.kill('SIGTERM');
  await browser.close();
}
