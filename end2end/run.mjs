// Runs the browser tests (or, with --bench, the browser benchmarks) against a release build:
// starts the server on a free port with a fresh copy of the demo store, runs `node --test`,
// then stops the server with SIGTERM.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const targetDir = process.env.CARGO_TARGET_DIR;
const siteDir = process.env.SITE_DIR;
const cacheDir = process.env.CACHE_DIR;
if (!targetDir || !siteDir || !cacheDir) {
  console.error('CARGO_TARGET_DIR, SITE_DIR and CACHE_DIR must be set (run through `make e2e`)');
  process.exit(2);
}
const serverBin = join(targetDir, 'release', 'server');

const freePort = () =>
  new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

function startServer(port, dataDir) {
  // The demo is opt-in: the tests run on the demo store (written by the first start).
  const child = spawn(serverBin, ['serve', '--demo'], {
    cwd: root,
    env: {
      ...process.env,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      IEM_DATA_DIR: dataDir,
      IEM_SITE_ROOT: siteDir,
      IEM_CONFIG_DIR: join(root, 'data'),
      // Tests change the figures themselves; the live simulator would race them.
      IEM_NO_SIMULATOR: 'true',
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const server = { child, out: '', exited: false };
  child.stdout.on('data', (d) => (server.out += d));
  server.done = new Promise((ok) =>
    child.on('exit', (code, signal) => {
      server.exited = true;
      ok({ code, signal });
    }),
  );
  return server;
}

async function waitReady(base, deadlineMs, server) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until && !server.exited) {
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(server.exited ? 'the server exited before it was ready' : `server not ready within ${deadlineMs} ms`);
}

async function stop(server) {
  server.child.kill('SIGTERM');
  const { code, signal } = await server.done;
  if (code !== 0) throw new Error(`server did not shut down cleanly on SIGTERM (code ${code}, signal ${signal})`);
}

// The demo store is written once per server build and authored data, then copied for each run:
// writing it takes minutes, copying it a second.
function fixtureKey() {
  const hash = createHash('sha256');
  hash.update(readFileSync(serverBin));
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(name).update(readFileSync(path));
    }
  };
  walk(join(root, 'data'));
  return hash.digest('hex').slice(0, 16);
}

const fixtures = join(cacheDir, 'e2e-fixture');
const fixture = join(fixtures, fixtureKey());
if (!existsSync(fixture)) {
  rmSync(fixtures, { recursive: true, force: true });
  mkdirSync(fixtures, { recursive: true });
  const staging = `${fixture}.partial`;
  const port = await freePort();
  console.log('writing the demo store for the browser tests (once per server build) …');
  const started = Date.now();
  const seeding = startServer(port, staging);
  await waitReady(`http://127.0.0.1:${port}`, 600_000, seeding);
  await stop(seeding);
  renameSync(staging, fixture);
  console.log(`demo store written in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

const port = await freePort();
const dataDir = mkdtempSync(join(tmpdir(), 'iem-e2e-'));
// Not the control socket a stopped server may leave (a socket cannot be copied; the server makes a new one).
cpSync(fixture, dataDir, { recursive: true, filter: (source) => !source.endsWith('control.sock') });
const outputDir = join(root, 'end2end', 'output');
mkdirSync(outputDir, { recursive: true });
const base = `http://127.0.0.1:${port}`;
const server = startServer(port, dataDir);

// `--only=dashboard` runs one file of tests (end2end/tests/dashboard.test.mjs); all of them by default.
function testFiles() {
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  return [join(root, 'end2end', 'tests', only ? `${only}.test.mjs` : '')];
}

let status = 1;
try {
  const started = Date.now();
  await waitReady(base, 120_000, server);
  console.log(`server ready at ${base} after ${Date.now() - started} ms`);
  const token = readFileSync(join(dataDir, 'ingest-token'), 'utf8').trim();
  // `--bench` runs the browser benchmarks instead of the tests, against the same server.
  const runs = process.argv.includes('--bench')
    ? ['dashboard.mjs', 'map.mjs', 'communes.mjs', 'phone.mjs'].map((name) => [join(root, 'end2end', 'bench', name)])
    : [['--test', '--test-concurrency=1', ...testFiles()]];
  status = 0;
  for (const args of runs) {
    const tests = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, E2E_BASE_URL: base, E2E_OUTPUT: outputDir, E2E_INGEST_TOKEN: token, E2E_DATA_DIR: dataDir },
      stdio: 'inherit',
    });
    status ||= await new Promise((ok) => tests.on('exit', (code) => ok(code ?? 1)));
  }
} catch (e) {
  console.error(String(e));
} finally {
  try {
    await stop(server);
  } catch (e) {
    console.error(String(e));
    status = status || 1;
  }
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(status);
