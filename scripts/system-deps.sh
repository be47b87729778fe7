#!/usr/bin/env bash
# System packages the full feature set uses, installed from Debian's archive when we may.
# Fashion-MNIST (the out-of-distribution set and a second dataset) comes from the Debian package
# dataset-fashion-mnist; the web page's browser test drives Debian's chromium; the tuning tests
# start a throwaway PostgreSQL server from Debian's postgresql package. Without root we only say
# what is missing; the tests that need it skip.
set -u
missing=()
[[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]] || missing+=(dataset-fashion-mnist)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
((${#missing[@]})) || exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || echo "system-deps: could not install ${missing[*]}; continuing without them" >&2
else
  echo "system-deps: missing ${missing[*]}; install them (e.g. sudo apt-get install ${missing[*]}) for every feature" >&2
fi
exit 0
