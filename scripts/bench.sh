#!/usr/bin/env bash
# `npm run bench`: the benchmarks in bench/ (arguments go to bench/run.ts).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/ensure-deps.sh"
cd "$root"
exec npx tsx bench/run.ts "$@"
