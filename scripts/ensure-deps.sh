#!/usr/bin/env bash
# Makes a fresh clone ready to test: npm packages, the Kafka broker jars, Debian's chromium for
# the status page's browser test, and a check that the system tools the test servers need are
# installed (with the apt-get line that installs them).
# Cheap when everything is already there, so every entry point (npm test, npm run servers,
# npm run bench) runs it first.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

missing=()
need() { # need <command> <debian package>
  command -v "$1" >/dev/null 2>&1 || missing+=("$2")
}
need java openjdk-17-jre-headless
need mvn maven
need mariadbd mariadb-server
need mariadb-install-db mariadb-server
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "ensure-deps: missing tools; install them with:" >&2
  echo "  apt-get update && apt-get install -y $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')" >&2
  exit 1
fi
# Redis is only needed when none answers on 127.0.0.1:6379: the harness then starts its own.
if ! command -v redis-server >/dev/null 2>&1 && ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "ensure-deps: no Redis on 127.0.0.1:6379 and no redis-server to start one; install it with: apt-get install -y redis-server" >&2
  exit 1
fi

# The status page's test drives a real browser: Debian's chromium, which a fresh CI machine lacks,
# so it is installed here (as root, or through sudo) rather than asked for.
if [[ ! -x /usr/bin/chromium ]]; then
  echo "ensure-deps: installing chromium (apt-get) for the status page's browser test ..."
  as_root=()
  if [[ $(id -u) -ne 0 ]]; then as_root=(sudo -n); fi
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
fi

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [[ "$node_major" -lt 20 ]]; then
  echo "ensure-deps: Node $(node -v) is too old; Liberator needs Node 20 or newer" >&2
  exit 1
fi

# npm writes node_modules/.package-lock.json on every install: older than package-lock.json
# means the lock changed since (a pull, a new dependency).
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "ensure-deps: installing npm packages (npm ci) ..."
  npm ci --no-audit --no-fund
fi

bash "$root/scripts/fetch-kafka.sh"
