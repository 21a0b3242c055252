// Content-hashed copies of the built browser assets, precompressed, and the manifest that
// tells the server their names.
//
// Why: a browser caches `/pkg/iem.<hash>.js` forever (`immutable`), and an upgrade's HTML
// names new files, so new HTML can never meet an old bundle. Brotli (quality 11) and gzip
// (level 9) are written once here, so the server does no compression work per request.
//
// Usage: node scripts/hash-assets.mjs PKG_DIR BUNDLE… (each bundle: NAME.js + NAME_bg.wasm;
// iem.css is hashed too). Writes PKG_DIR/assets.json: {"bundles": {NAME: "NAME.<hash>"},
// "css": "iem.<hash>.css"}.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gzipSync, gunzipSync, constants } from 'node:zlib';

const [pkg, ...bundles] = process.argv.slice(2);
if (!pkg || bundles.length === 0) {
  console.error('usage: node scripts/hash-assets.mjs PKG_DIR BUNDLE…');
  process.exit(2);
}

const hash = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
};

const written = new Set();

/** Writes `name` and its .br and .gz beside it; checks each decompresses to the same bytes. */
function emit(name, bytes) {
  const br = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  const gz = gzipSync(bytes, { level: 9 });
  if (!brotliDecompressSync(br).equals(bytes) || !gunzipSync(gz).equals(bytes)) {
    throw new Error(`${name}: a compressed copy does not decompress to the file`);
  }
  writeFileSync(join(pkg, name), bytes);
  writeFileSync(join(pkg, `${name}.br`), br);
  writeFileSync(join(pkg, `${name}.gz`), gz);
  for (const n of [name, `${name}.br`, `${name}.gz`]) written.add(n);
  return { raw: bytes.length, br: br.length, gz: gz.length };
}

// Size targets, brotli bytes of the WASM (issue: light and fast on a phone), printed with each
// build. The build fails past a bundle's limit, so a regression is seen where it is made: the
// target itself where it is met, the size reached so far (and a little room) where it is not yet.
const TARGETS = { iem: 300_000, 'iem-embed': 150_000 };
const LIMITS = { iem: 300_000, 'iem-embed': 150_000 };

const manifest = { bundles: {}, css: null };
const sizes = [];
for (const bundle of bundles) {
  const js = readFileSync(join(pkg, `${bundle}.js`));
  const wasm = readFileSync(join(pkg, `${bundle}_bg.wasm`));
  // One hash for the pair: the glue and the module change together.
  const stem = `${bundle}.${hash(js, wasm)}`;
  emit(`${stem}.js`, js);
  sizes.push([bundle, `${stem}_bg.wasm`, emit(`${stem}_bg.wasm`, wasm)]);
  manifest.bundles[bundle] = stem;
}
const css = readFileSync(join(pkg, 'iem.css'));
manifest.css = `iem.${hash(css)}.css`;
emit(manifest.css, css);

// Earlier builds' hashed files go: only this build's are named by any HTML from now on.
const hashed = /^[a-z-]+\.[0-9a-f]{16}(\.js|_bg\.wasm|\.css)(\.br|\.gz)?$/;
for (const name of readdirSync(pkg)) {
  if (hashed.test(name) && !written.has(name)) unlinkSync(join(pkg, name));
}
writeFileSync(join(pkg, 'assets.json'), JSON.stringify(manifest, null, 2) + '\n');
let over = false;
for (const [bundle, name, s] of sizes) {
  const target = TARGETS[bundle];
  const limit = LIMITS[bundle];
  const verdict = target === undefined ? '' : s.br <= target ? ` (target ≤ ${target}: met)` : ` (target ≤ ${target}: NOT MET yet)`;
  console.log(`  ${name}: ${s.br} bytes brotli${verdict}, ${s.gz} bytes gzip (${Math.round(s.raw / 1024)} KiB raw)`);
  if (limit !== undefined && s.br > limit) {
    console.error(`${bundle}: ${s.br} bytes brotli is past its limit of ${limit}: a regression`);
    over = true;
  }
}
if (over) {
  console.error('a browser bundle is over its size limit');
  process.exit(1);
}
