#!/usr/bin/env bash
# Vendor onnxruntime-web for reading digits in the browser (the page's "Read in this browser"
# switch and `mnist-digits site build`). Fetched once through npm (`npm pack`, no CDN), checked
# against the sha256s in scripts/vendor-js.sha256, and copied into the git-ignored folder that
# the app serves: src/mnist_digits/web/static/vendor/. Only three files are needed: the
# wasm-only IIFE bundle (a plain <script>, so it also runs from file://), its Emscripten glue
# and the wasm binary. The wasm build is "simd-threaded", but with numThreads = 1 it needs no
# SharedArrayBuffer, no cross-origin isolation and no worker.
# Re-running is a no-op (~10 ms) when the folder already holds this version with these sums.
set -euo pipefail
VERSION=1.22.0
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=$ROOT/src/mnist_digits/web/static/vendor
SUMS=$ROOT/scripts/vendor-js.sha256
FILES=(ort.wasm.min.js ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm)

check() {  # the folder's files against the recorded sums; quiet unless asked
  (cd "$1" && sha256sum --check --strict --status "$SUMS")
}

if [[ -f $DEST/VERSION && $(cat "$DEST/VERSION") == "onnxruntime-web@$VERSION" ]] && check "$DEST"; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "vendor-js: npm is missing (apt-get install npm)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "vendor-js: fetching onnxruntime-web@$VERSION with npm pack" >&2
if ! (cd "$work" && npm pack --silent "onnxruntime-web@$VERSION" >/dev/null); then
  echo "vendor-js: npm pack onnxruntime-web@$VERSION failed (see npm's messages above)" >&2
  exit 1
fi
tar -xzf "$work/onnxruntime-web-$VERSION.tgz" -C "$work"
stage=$work/vendor
mkdir -p "$stage"
for f in "${FILES[@]}"; do cp "$work/package/dist/$f" "$stage/$f"; done
if ! check "$stage"; then
  echo "vendor-js: onnxruntime-web@$VERSION does not match scripts/vendor-js.sha256:" >&2
  (cd "$stage" && sha256sum --check --strict "$SUMS") >&2 || true
  exit 1
fi
echo "onnxruntime-web@$VERSION" >"$stage/VERSION"
# Swap the whole folder in by rename, so the app never serves half a copy.
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST.old"
[[ -e $DEST ]] && mv "$DEST" "$DEST.old"
mv "$stage" "$DEST"
rm -rf "$DEST.old"
echo "vendor-js: onnxruntime-web@$VERSION in ${DEST#"$ROOT"/}" >&2
