// Live updates: an ingest changes a district's colour and its ranking row without a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { base, output, openBrowser, waitHydrated } from './browser.mjs';

const token = process.env.E2E_INGEST_TOKEN;
let browser;
before(async () => {
  browser = await openBrowser();
});
after(async () => {
  await browser?.close();
});

async function ingest(lines) {
  const res = await fetch(`${base}/api/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` },
    body: lines.map((l) => JSON.stringify(l)).join('\n'),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return { replied: Date.now(), body };
}

test('an ingest recolours a district and updates the ranking in place', async () => {
  assert.ok(token, 'the ingest token is passed to the tests');
  const page = await browser.context.newPage();
  // February 2020 holds no demo dossiers: every district starts without data.
  const view = `${base}/?lang=en&unit=49&from=2020-02-01&to=2020-02-29`;
  await page.goto(view);
  await waitHydrated(page);
  await page.waitForSelector('.live-status[data-status="live"]');
  const unit = 'path.unit[data-unit="502"]';
  assert.equal(await page.getAttribute(unit, 'data-class'), 'none');
  const receivedCell = 'tbody tr[data-unit="502"] td:nth-of-type(2)';
  const receivedBefore = Number((await page.textContent(receivedCell)).replace(/\D/g, ''));
  await page.evaluate(() => (window.__sameDocument = true));

  const { replied } = await ingest([
    {
      event_id: 'live-e2e-1', dossier_id: 'live-e2e-d1', type: 'received', at: '2020-02-07T08:00:00+07:00',
      unit: '502', level: 'district', procedure: 'DD-01', field: 'Đất đai', channel: 'online',
      due: '2020-02-20T17:00:00+07:00', fee: false, paid_online: false,
    },
    { event_id: 'live-e2e-2', dossier_id: 'live-e2e-d1', type: 'resolved', at: '2020-02-14T10:00:00+07:00' },
  ]);
  await page.waitForFunction((sel) => document.querySelector(sel)?.dataset.class !== 'none', unit, { timeout: 5000 });
  const seenAfterMs = Date.now() - replied;
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');
  assert.notEqual(await page.getAttribute(unit, 'fill'), 'url(#no-data)');
  await page.waitForFunction(
    ([sel, before]) => Number(document.querySelector(sel).textContent.replace(/\D/g, '')) === before + 1,
    [receivedCell, receivedBefore],
  );
  assert.match(await page.textContent('.live-status'), /Live · updated at \d\d:\d\d:\d\d/);
  // What the page shows equals a fresh GET /api/v1/stats for the same view.
  const stats = await (await fetch(`${base}/api/v1/stats?from=2020-02-01&to=2020-02-29&level=district&parent=49`)).json();
  const tamKy = stats.units.find((u) => u.code === '502');
  assert.equal(tamKy.received, receivedBefore + 1);
  console.log(`# change visible ${seenAfterMs} ms after the ingest reply`);
  await page.screenshot({ path: join(output, 'live.png') });
  assert.deepEqual(browser.errors, [], 'no console errors');
  await page.close();
});

test("the embed, hydrated from the view its page carries, recolours a district when an ingest lands", async () => {
  const page = await browser.context.newPage();
  const served = [];
  page.on('request', (r) => served.push(r.url()));
  await page.goto(`${base}/embed?lang=en&unit=49&from=2020-02-01&to=2020-02-29`);
  await waitHydrated(page);
  await page.waitForSelector('.live-status[data-status="live"]');
  const unit = 'path.unit[data-unit="503"]';
  assert.equal(await page.getAttribute(unit, 'data-class'), 'none');
  await ingest([
    {
      event_id: 'live-e2e-embed-1', dossier_id: 'live-e2e-embed-d1', type: 'received', at: '2020-02-10T08:00:00+07:00',
      unit: '503', level: 'district', procedure: 'DD-01', field: 'Đất đai', channel: 'direct',
      due: '2020-02-24T17:00:00+07:00', fee: false, paid_online: false,
    },
    { event_id: 'live-e2e-embed-2', dossier_id: 'live-e2e-embed-d1', type: 'resolved', at: '2020-02-12T10:00:00+07:00' },
  ]);
  await page.waitForFunction((sel) => document.querySelector(sel)?.dataset.class !== 'none', unit, { timeout: 5000 });
  assert.notEqual(await page.getAttribute(unit, 'fill'), 'url(#no-data)');
  // The view came in the page: the embed asked no server function for it.
  assert.ok(!served.some((u) => u.includes('/api/fn/')), `no server function: ${served}`);
  assert.deepEqual(browser.errors, [], 'no console errors');
  await page.close();
});
