#!/usr/bin/env bash
# `npm test`: every test, unit and integration, against real servers the harness starts
# (or the dev servers of `npm run servers -- start`). Arguments go to vitest, e.g.
#   npm test -- --project unit
#   npm test -- test/integration/harness.test.ts
#
# Without arguments the fault suite (test/faults, servers of its own that it kills and cuts off)
# runs as a second vitest process beside the unit and integration tests rather than after them:
# most of its 7-8 minutes is waiting out fault windows (a broker down for two minutes), time in
# which the two integration workers can use the cores. vitest cannot do it in one process: it
# refuses projects that run together with different worker counts, and the integration tests need
# two workers while the scenarios must run one at a time. Its output is printed when it ends.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/ensure-deps.sh"
cd "$root"
if [[ $# -gt 0 ]]; then
  exec npx vitest run "$@"
fi

faults_log="$(mktemp -t liberator-faults.XXXXXX)"
npx vitest run --project faults >"$faults_log" 2>&1 &
faults_pid=$!
trap 'kill "$faults_pid" 2>/dev/null || true' INT TERM
rc=0
npx vitest run --project unit --project integration || rc=$?
faults_rc=0
echo
echo "=== the fault suite (test/faults), run beside the tests above; waiting for it to end"
wait "$faults_pid" || faults_rc=$?
cat "$faults_log"
rm -f "$faults_log"
echo "=== unit and integration: exit $rc; fault suite: exit $faults_rc"
if [[ $rc -ne 0 ]]; then exit "$rc"; fi
exit "$faults_rc"
