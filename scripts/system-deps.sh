#!/usr/bin/env bash
# System packages the full feature set uses, installed from Debian's archive when we may.
# Fashion-MNIST (the out-of-distribution set and a second dataset) comes from the Debian package
# dataset-fashion-mnist; the web page's browser test drives Debian's chromium; the tuning tests
# start a throwaway PostgreSQL server from Debian's postgresql package; typefaces come from
# Debian's font packages.
# As root, a failed install fails this script. Without root we say what is missing; then, outside
# CI, the tests that need it skip, and under CI=true the set-up fails here instead.
set -u
missing=()
[[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]] || missing+=(dataset-fashion-mnist)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
# Typefaces for printed digits and symbols: the first six are trained on, the last three are
# held out for measuring (src/mnist_digits/synthetic/fonts.py).
fonts=(fonts-dejavu-core fonts-liberation fonts-freefont-ttf fonts-roboto-unhinted fonts-lato
  fonts-open-sans fonts-urw-base35 fonts-comic-neue fonts-crosextra-carlito)
for font in "${fonts[@]}"; do
  dpkg-query -W -f='${Status}' "$font" 2>/dev/null | grep -q "install ok installed" || missing+=("$font")
done
((${#missing[@]})) || exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }; then
    echo "system-deps: could not install ${missing[*]} (see apt-get's messages above)" >&2
    exit 1
  fi
  exit 0
fi
echo "system-deps: missing ${missing[*]}; install them (e.g. sudo apt-get install ${missing[*]}) for every feature" >&2
[[ "${CI:-}" == "true" ]] && exit 1
exit 0
