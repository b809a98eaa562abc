#!/usr/bin/env bash
# Node-side interop and benchmark tooling for authcore (see README.md).
#   bash tests/node/run.sh selftest   install deps, then check authjs.mjs against the real libraries + vectors
#   bash tests/node/run.sh bench [bench.mjs options]
#   bash tests/node/run.sh install    install deps only
#   bash tests/node/run.sh interop [path/to/authcore]   authcore CLI <-> @auth/core / next-auth@4
# Installs @auth/core and next-auth@4 from the npm registry into tests/node/node_modules
# (npm ci from package-lock.json; .npmrc sets legacy-peer-deps, see there).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

usage() {
  echo "usage: $0 {selftest|bench [--iterations N] [--warmup N] [--payload FILE]... [--only-authjs]|install}" >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
cmd=$1
shift

case "$cmd" in
  selftest | bench | install | interop) ;;
  *) usage ;;
esac

command -v node >/dev/null || { echo "run.sh: node not found (need Node.js >= 20)" >&2; exit 1; }
command -v npm >/dev/null || { echo "run.sh: npm not found" >&2; exit 1; }

# npm's own output goes to stderr so that stdout carries only our JSON (bench prints one JSON line).
if [[ -f package-lock.json ]]; then
  npm ci --no-audit --no-fund >&2
else
  npm install --no-audit --no-fund >&2
fi

case "$cmd" in
  selftest) exec node selftest.mjs "$@" ;;
  interop) exec node interop.mjs "$@" ;;
  bench) exec node bench.mjs "$@" ;;
  install) ;;
esac
