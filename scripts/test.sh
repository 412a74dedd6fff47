#!/usr/bin/env bash
# `npm test`: every test, unit and integration, against real servers the harness starts
# (or the dev servers of `npm run servers -- start`). Arguments go to vitest, e.g.
#   npm test -- --project unit
#   npm test -- test/integration/harness.test.ts
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/ensure-deps.sh"
cd "$root"
exec npx vitest run "$@"
