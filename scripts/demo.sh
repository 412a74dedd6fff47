#!/usr/bin/env bash
# `npm run demo`: MariaDB → Kafka → PostgreSQL with the connectors.yaml of the repo, on servers of
# its own (see scripts/demo.ts). Sets up what is missing first (npm packages, Kafka jars).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/ensure-deps.sh"
cd "$root"
exec npx tsx scripts/demo.ts "$@"
