// Operations endpoints and API error shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base } from './browser.mjs';

test('healthz and readyz answer JSON', async () => {
  const h = await fetch(`${base}/healthz`);
  assert.equal(h.status, 200);
  assert.deepEqual(await h.json(), { status: 'ok' });
  const r = await fetch(`${base}/readyz`);
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.equal(body.status, 'ready');
  assert.ok(body.schema_version >= 1);
});

test('every response carries a request id', async () => {
  const r = await fetch(`${base}/healthz`);
  assert.match(r.headers.get('x-request-id') ?? '', /^[0-9a-f]{8}-\d+$/);
});

test('a bad stats parameter is a 400 naming it', async () => {
  const r = await fetch(`${base}/api/v1/stats?from=2021-01-01&to=2021-13-01&level=district`);
  assert.equal(r.status, 400);
  const body = await r.json();
  assert.equal(body.field, 'to');
  assert.equal(body.code, 'bad_request');
});
