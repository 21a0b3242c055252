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

# 5. tachys, Leptos's renderer, patched (see [patch.crates-io] in Cargo.toml): the crates.io release as cargo itself
#    fetches it (into its registry cache, checked against the index's checksum and against ours), with
#    patches/tachys-*.patch applied. The patched source lives in the cache directory, one per version and patch, and
#    vendor/tachys links to it: every clone then builds the same unchanged files, so a fresh clone (CI) reuses the
#    compiled Leptos stack from the shared target directory instead of rebuilding it.
tachys_version=0.2.19
tachys_sha256=e47e2220bb9d2a3be976a22a0fb7685a0b84499bb11ea5cb3bbc82907675ac68
tachys_patch=patches/tachys-$tachys_version-sync-hydrate-any-view.patch
tachys_patch_sha=$(sha256sum "$tachys_patch" | cut -d' ' -f1)
tachys_dir="${CACHE_DIR:-$HOME/.cache/iem}/tachys-$tachys_version-${tachys_patch_sha:0:16}"
tachys_stamp="$tachys_version $tachys_patch_sha"
if [ "$(cat "$tachys_dir/.patched" 2>/dev/null || true)" != "$tachys_stamp" ]; then
  step "preparing tachys $tachys_version with $tachys_patch in $tachys_dir"
  work=$(mktemp -d)
  # A throwaway package depending on the release, resolved against this workspace's lock so that cargo downloads
  # only tachys itself (everything else it needs is already in the registry cache).
  mkdir -p "$work/fetch/src" && : > "$work/fetch/src/lib.rs"
  printf '[package]\nname = "tachys-fetch"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\ntachys = "=%s"\n' \
    "$tachys_version" > "$work/fetch/Cargo.toml"
  cp Cargo.lock "$work/fetch/Cargo.lock"
  cargo fetch --quiet --manifest-path "$work/fetch/Cargo.toml"
  crate=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"tachys-$tachys_version.crate" | head -1)
  echo "$tachys_sha256  $crate" | sha256sum -c --quiet
  tar -xzf "$crate" -C "$work"
  patch -s -d "$work/tachys-$tachys_version" -p1 < "$tachys_patch"
  echo "$tachys_stamp" > "$work/tachys-$tachys_version/.patched"
  mkdir -p "$(dirname "$tachys_dir")"
  # Moved next to its place, then renamed into it in one step: a set-up running at the same time in another clone
  # sees the whole directory or none. If another one got there first (the rename fails on a directory that is not
  # empty), its copy is the same and stays; one left incomplete by an interrupted set-up has no stamp and is replaced.
  staged=$(mktemp -d "$tachys_dir.new.XXXXXX")
  mv "$work/tachys-$tachys_version" "$staged/tree"
  if [ -d "$tachys_dir" ] && [ "$(cat "$tachys_dir/.patched" 2>/dev/null || true)" != "$tachys_stamp" ]; then
    rm -rf "$tachys_dir"
  fi
  mv -T "$staged/tree" "$tachys_dir" 2>/dev/null || true
  rm -rf "$staged" "$work"
  if [ "$(cat "$tachys_dir/.patched" 2>/dev/null || true)" != "$tachys_stamp" ]; then
    echo "error: could not prepare $tachys_dir" >&2
    exit 1
  fi
fi
if [ "$(readlink vendor/tachys 2>/dev/null || true)" != "$tachys_dir" ]; then
  rm -rf vendor/tachys && mkdir -p vendor && ln -s "$tachys_dir" vendor/tachys
fi

echo "set-up complete: $(wasm-bindgen --version), wasm-opt $(node_modules/.bin/wasm-opt --version | awk '{print $3}'), sass $(node_modules/.bin/sass --version), $(chromium --version 2>/dev/null | head -1), $(clang++-16 --version | head -1), ClickHouse $(dpkg-query -W -f='${Version}' clickhouse-server 2>/dev/null || echo "?")"
