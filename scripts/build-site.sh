#!/usr/bin/env bash
# Builds the browser bundles into $SITE_DIR/pkg: WASM (wasm-release profile) → wasm-bindgen →
# wasm-opt, and the stylesheet with dart-sass. Steps whose inputs did not change are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:?set CARGO_TARGET_DIR (the Makefile does)}"
: "${SITE_DIR:?set SITE_DIR (the Makefile does)}"
pkg="$SITE_DIR/pkg"
mkdir -p "$pkg"

# Three bundles (`app::BUNDLES`): the dashboard, the desk pages, and the embed.
built=()
# --converge repeats -Oz while it still shrinks the module (−2 KB gzip). --low-memory-unused
# (−4 KB) lets wasm-opt fold address arithmetic on the promise that nothing lives below 1 KiB:
# Rust's linker puts the 1 MiB stack first, growing down towards 0, and the data above it, so
# only a stack a kilobyte short of overflowing reaches there.
opt_flags=(-Oz --converge --low-memory-unused --enable-bulk-memory --enable-nontrapping-float-to-int
  --enable-sign-ext --enable-mutable-globals --enable-reference-types)
for bundle in "iem public-pages" "iem-desk desk-pages" "iem-embed embed-page"; do
  read -r name pages <<< "$bundle"
  cargo build --locked -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release --features "$pages"
  wasm_in="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/frontend.wasm"
  stamp="$pkg/.$name-input"
  want="$(sha256sum "$wasm_in" | cut -d' ' -f1) $(wasm-bindgen --version) $(node_modules/.bin/wasm-opt --version) ${opt_flags[*]}"
  if [ ! -f "$pkg/${name}_bg.wasm" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "$name: wasm-bindgen + wasm-opt (about a minute) …"
    wasm-bindgen "$wasm_in" --target web --no-typescript --out-dir "$pkg" --out-name "$name"
    node_modules/.bin/wasm-opt "${opt_flags[@]}" "$pkg/${name}_bg.wasm" -o "$pkg/${name}_bg.wasm"
    echo "$want" > "$stamp"
  fi
  built+=("$name")
done

cp style/favicon.svg "$SITE_DIR/favicon.svg"
node_modules/.bin/sass --no-source-map --style=compressed style/main.scss "$pkg/iem.css"
# Content-hashed, precompressed copies (brotli 11, gzip 9) and pkg/assets.json naming them.
node scripts/hash-assets.mjs "$pkg" "${built[@]}"

echo "site built in $SITE_DIR:"
for name in "${built[@]}"; do
  raw=$(stat -c %s "$pkg/${name}_bg.wasm")
  gz=$(gzip -9 -c "$pkg/${name}_bg.wasm" | wc -c)
  echo "  ${name}_bg.wasm: $((raw / 1024)) KiB raw, $gz bytes gzip ($((gz / 1000)) KB)"
done
