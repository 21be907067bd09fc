#!/usr/bin/env node
// Browser smoke test of the web UI served by a running gateway + tradingd.
//
//   node web/e2e/ui-smoke.mjs <gateway-url> <screenshot-path>
//
// Uses the system Chromium (override with $CHROMIUM); playwright-core never
// downloads a browser. Exits non-zero with a message on the first failure.
import { chromium } from 'playwright-core';

const [baseArg, screenshotPath] = process.argv.slice(2);
if (!baseArg || !screenshotPath) {
  console.error('usage: node web/e2e/ui-smoke.mjs <gateway-url> <screenshot-path>');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const TIMEOUT_MS = 10_000; // well under the UI's 30 s polling fallback

/** JSON request to the gateway; throws unless the status is `expected`. */
async function api(method, path, body, expected) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((err) => {
    throw new Error(`${method} ${base}${path}: ${err.cause?.message ?? err.message} (is the gateway running?)`);
  });
  const text = await res.text();
  if (res.status !== expected) {
    throw new Error(`${method} ${path}: expected HTTP ${expected}, got ${res.status}: ${text}`);
  }
  return text ? JSON.parse(text) : undefined;
}

function createBot(name) {
  return api('POST', '/api/bots', { name, trading_pair: 'BTC/USDT', strategy: 'dca_accumulator', budget: '123.45' }, 201);
}

function assertContains(haystack, needle, what) {
  if (!haystack.includes(needle)) throw new Error(`${what}: expected to contain ${JSON.stringify(needle)}, got ${JSON.stringify(haystack)}`);
}

/** Waits until the element's trimmed text equals `want`; reports the last text seen on timeout. */
async function waitForText(locator, want, what) {
  try {
    await locator.filter({ hasText: new RegExp(`^\\s*${want}\\s*$`) }).waitFor({ timeout: TIMEOUT_MS });
  } catch {
    const got = await locator.textContent({ timeout: 1_000 }).catch(() => '<missing>');
    throw new Error(`${what}: expected "${want}" within ${TIMEOUT_MS} ms, got ${JSON.stringify(got)}`);
  }
}

const step = (msg) => console.log(`ok - ${msg}`);

let browser;
try {
  // (a) Seed a running bot through the REST API.
  const bot = await createBot('ui smoke');
  await api('POST', `/api/bots/${bot.id}/start`, {}, 200);
  step(`created bot ${bot.id} via REST and started it`);

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  let wsFrames = 0;
  page.on('websocket', (ws) => {
    if (new URL(ws.url()).pathname === '/ws') ws.on('framereceived', () => { wsFrames += 1; });
  });

  // (b) The bot shows up on /bots with its data and status.
  await page.goto(`${base}/bots`);
  const row = page.getByTestId(`bot-row-${bot.id}`);
  await row.waitFor({ timeout: TIMEOUT_MS });
  const rowText = await row.innerText();
  for (const want of ['ui smoke', 'BTC/USDT', '123.45']) assertContains(rowText, want, `row of bot ${bot.id}`);
  const status = page.getByTestId(`bot-status-${bot.id}`);
  await waitForText(status, 'running', `status of bot ${bot.id}`);
  step(`bot ${bot.id} row shows "ui smoke", BTC/USDT, 123.45 and status running`);

  // Marker that a full page reload would wipe out.
  await page.evaluate(() => { window.__uiSmokeNoReload = true; });

  // (c) Pausing from the UI reaches the API and the badge refreshes.
  await row.getByRole('button', { name: 'Pause', exact: true }).click();
  await waitForText(status, 'paused', `status of bot ${bot.id} after clicking Pause`);
  step(`clicked Pause; bot ${bot.id} status is paused`);

  // (d) A bot created elsewhere appears live, via /ws, without a reload.
  const framesBefore = wsFrames;
  const second = await createBot('ui smoke 2');
  try {
    await page.getByTestId(`bot-row-${second.id}`).waitFor({ timeout: TIMEOUT_MS });
  } catch {
    throw new Error(`bot ${second.id} created via REST did not appear within ${TIMEOUT_MS} ms without reload (${wsFrames - framesBefore} /ws frames received)`);
  }
  if (!(await page.evaluate(() => window.__uiSmokeNoReload === true))) throw new Error('page was reloaded');
  if (wsFrames === framesBefore) throw new Error(`bot ${second.id} appeared but no /ws frame was received`);
  step(`bot ${second.id} created via REST appeared live (${wsFrames - framesBefore} /ws frames, no reload)`);

  // (e) Header shows the global P&L.
  const pnl = page.getByTestId('global-pnl');
  await pnl.waitFor({ state: 'visible', timeout: TIMEOUT_MS });
  step(`header global P&L visible: ${JSON.stringify((await pnl.innerText()).trim())}`);

  if (pageErrors.length > 0) throw new Error(`uncaught page errors: ${pageErrors.join('; ')}`);

  // (f) Screenshot for a human to look at.
  await page.screenshot({ path: screenshotPath, fullPage: true });
  step(`full-page screenshot saved to ${screenshotPath}`);
  console.log('ui smoke: all steps passed');
} catch (err) {
  console.error(`FAIL: ${err instanceof Error ? err.message : err}`);
  process.exitCode = 1;
} finally {
  await browser?.close();
}
