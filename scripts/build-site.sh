#!/usr/bin/env bash
# Builds the browser bundle into $SITE_DIR/pkg: WASM (wasm-release profile) → wasm-bindgen →
# wasm-opt, and the stylesheet with dart-sass. Steps whose inputs did not change are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:?set CARGO_TARGET_DIR (the Makefile does)}"
: "${SITE_DIR:?set SITE_DIR (the Makefile does)}"
pkg="$SITE_DIR/pkg"
mkdir -p "$pkg"

cargo build --locked -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release

wasm_in="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/frontend.wasm"
stamp="$pkg/.wasm-input"
want="$(sha256sum "$wasm_in" | cut -d' ' -f1) $(wasm-bindgen --version)"
if [ ! -f "$pkg/iem_bg.wasm" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "wasm-bindgen + wasm-opt -Oz …"
  wasm-bindgen "$wasm_in" --target web --no-typescript --out-dir "$pkg" --out-name iem
  node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types \
    "$pkg/iem_bg.wasm" -o "$pkg/iem_bg.wasm"
  echo "$want" > "$stamp"
fi

cp style/favicon.svg "$SITE_DIR/favicon.svg"
node_modules/.bin/sass --no-source-map --style=compressed style/main.scss "$pkg/iem.css"

raw=$(stat -c %s "$pkg/iem_bg.wasm")
gz=$(gzip -9 -c "$pkg/iem_bg.wasm" | wc -c)
echo "site built in $SITE_DIR: iem_bg.wasm $((raw / 1024)) KiB raw, $((gz / 1024)) KiB gzip"
