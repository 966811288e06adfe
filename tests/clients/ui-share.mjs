// Sharing in the UI, in Debian's Chromium: a bundle imported with "Import…", the same bundle
// dropped on the window (already imported), the imported session saying where it came from,
// its Export button downloading a bundle again, and "Copy as bug report". Saves screenshots.
//
//   node ui-share.mjs UI_URL BUNDLE SCREENSHOT_DIR
//
// Prints {"picked", "dropped", "note", "report" (the copied bug report), "download": {"name", "bytes", "sqlite"}}.
import { mkdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { launch } from './chromium.mjs';

const [base, bundle, dir] = process.argv.slice(2);
if (!base || !bundle || !dir) {
  console.error('usage: node ui-share.mjs UI_URL BUNDLE SCREENSHOT_DIR');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const browser = await launch();
try {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1440, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(base).origin });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}#/sessions`);
  await page.getByRole('button', { name: 'Import…' }).waitFor({ timeout: 10000 });

  // Picked with the button.
  await page.getByLabel('Bundles to import').setInputFiles(bundle);
  const report = page.getByRole('status', { name: 'Import' });
  await report.getByText('Import finished').waitFor({ timeout: 20000 });
  const picked = await report.locator('.line').first().innerText();
  await page.screenshot({ path: `${dir}/share-1-imported.png` });
  await report.getByRole('button', { name: 'Close' }).click();

  // Dropped on the window: the same file again.
  const bytes = [...readFileSync(bundle)];
  const transfer = await page.evaluateHandle(
    ({ bytes, name }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], name));
      return dt;
    },
    { bytes, name: basename(bundle) },
  );
  await page.dispatchEvent('main', 'dragenter', { dataTransfer: transfer });
  await page.locator('.drop-overlay').waitFor();
  await page.screenshot({ path: `${dir}/share-2-drop.png` });
  await page.dispatchEvent('main', 'drop', { dataTransfer: transfer });
  await report.getByText('Import finished').waitFor({ timeout: 20000 });
  const dropped = await report.locator('.line').first().innerText();

  // The imported session, and where it came from.
  await report.getByRole('link', { name: 'open' }).first().click();
  const note = page.locator('.imported-note');
  await note.waitFor({ timeout: 10000 });
  const noteText = await note.innerText();
  await page.locator('.viewport iframe').waitFor({ timeout: 10000 });
  await page.screenshot({ path: `${dir}/share-3-session.png` });
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export' }).click()]);
  const saved = `${dir}/downloaded.sightline`;
  await download.saveAs(saved);
  const head = readFileSync(saved).subarray(0, 16).toString('latin1');
  // Copy as bug report: Markdown on the clipboard.
  await page.getByRole('button', { name: 'Copy as bug report' }).click();
  await page.getByRole('button', { name: 'Copied ✓' }).waitFor();
  const bugReport = await page.evaluate(() => navigator.clipboard.readText());

  // A selection on the Sessions page, exported as one bundle.
  await page.goto(`${base}#/sessions`);
  await page.getByRole('checkbox', { name: 'Select every session shown' }).click();
  await page.getByText('1 session selected').waitFor();
  await page.screenshot({ path: `${dir}/share-4-selection.png` });
  const [selection] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export selected' }).click()]);
  const selectionFile = `${dir}/selection.sightline`;
  await selection.saveAs(selectionFile);
  const selectionHead = readFileSync(selectionFile).subarray(0, 16).toString('latin1');

  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  console.log(
    JSON.stringify({
      picked,
      dropped,
      note: noteText,
      report: bugReport,
      selection: selectionHead.startsWith('SQLite format 3'),
      download: { name: download.suggestedFilename(), bytes: readFileSync(saved).length, sqlite: head.startsWith('SQLite format 3') },
    }),
  );
} finally {
  await browser.close();
}
