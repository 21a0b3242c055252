#!/usr/bin/env bash
# Installs every tool the build and the tests need, from the package registries only.
# Idempotent: each step checks first, so a warm machine passes through in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Rust target for the browser bundle.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 2. wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
want_bindgen=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
have_bindgen=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have_bindgen" != "$want_bindgen" ]; then
  step "installing wasm-bindgen-cli $want_bindgen (found: ${have_bindgen:-none})"
  # Not --locked: one of its locked dependencies is not served by the registry mirror.
  cargo install wasm-bindgen-cli --version "$want_bindgen" --force
fi

# 3. Debian packages: Chromium for the browser tests (never a downloaded browser build), ClickHouse, and clang, which
#    compiles DuckDB's bundled C++ about a fifth faster than gcc (the Makefile points cc at it).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v clang++-16 >/dev/null 2>&1 || missing+=(clang-16)
# ClickHouse (18.16 in Debian) for the cluster store's tests, which start two shards on loopback.
command -v clickhouse-server >/dev/null 2>&1 || missing+=(clickhouse-server)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# 4. npm tools: wasm-opt (binaryen), dart-sass, playwright-core. Reinstalled only when the lock changes.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm tools (binaryen, sass, playwright-core)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi

# 5. tachys, Leptos's renderer, patched (see [patch.crates-io] in Cargo.toml): the crates.io release, checked against
#    its published checksum, with patches/tachys-*.patch applied. Redone when the patch changes.
tachys_version=0.2.19
tachys_sha256=e47e2220bb9d2a3be976a22a0fb7685a0b84499bb11ea5cb3bbc82907675ac68
tachys_patch=patches/tachys-$tachys_version-sync-hydrate-any-view.patch
tachys_stamp="$tachys_version $(sha256sum "$tachys_patch" | cut -d' ' -f1)"
if [ "$(cat vendor/tachys/.patched 2>/dev/null || true)" != "$tachys_stamp" ]; then
  step "preparing tachys $tachys_version with $tachys_patch"
  work=$(mktemp -d)
  curl -sSfL --retry 3 -o "$work/tachys.crate" "https://static.crates.io/crates/tachys/tachys-$tachys_version.crate"
  echo "$tachys_sha256  $work/tachys.crate" | sha256sum -c --quiet
  tar -xzf "$work/tachys.crate" -C "$work"
  patch -s -d "$work/tachys-$tachys_version" -p1 < "$tachys_patch"
  echo "$tachys_stamp" > "$work/tachys-$tachys_version/.patched"
  rm -rf vendor/tachys && mkdir -p vendor && mv "$work/tachys-$tachys_version" vendor/tachys
  rm -rf "$work"
fi

echo "set-up complete: $(wasm-bindgen --version), wasm-opt $(node_modules/.bin/wasm-opt --version | awk '{print $3}'), sass $(node_modules/.bin/sass --version), $(chromium --version 2>/dev/null | head -1), $(clang++-16 --version | head -1), ClickHouse $(dpkg-query -W -f='${Version}' clickhouse-server 2>/dev/null || echo "?")"
