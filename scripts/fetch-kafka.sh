#!/usr/bin/env bash
# Resolves the official Apache Kafka broker jars (and log4j2/slf4j) from Maven Central into
# .cache/kafka/<version>/libs, so tests and the demo run a real broker without Docker or a
# tarball mirror. The version lives only in scripts/kafka/pom.xml.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pom="$root/scripts/kafka/pom.xml"

# Read the version with sed rather than `mvn help:evaluate`: that plugin would be one more
# download and costs several seconds on every run.
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom" | head -n1)"
if [[ -z "$version" ]]; then
  echo "fetch-kafka: no <kafka.version> in $pom" >&2
  exit 1
fi

dest="$root/.cache/kafka/$version"
# The marker is written only after every jar is in place, so an interrupted download is redone.
# It records a hash of the pom, so changing log4j or another dependency refreshes the jars too.
marker="$dest/.complete"
pom_hash="$(sha256sum "$pom" | cut -d' ' -f1)"
if [[ -f "$marker" && "$(cat "$marker")" == "$pom_hash" ]]; then
  exit 0
fi

if ! command -v mvn >/dev/null 2>&1; then
  echo "fetch-kafka: Maven is missing; install it with: apt-get install -y maven" >&2
  exit 1
fi

start=$SECONDS
echo "fetch-kafka: resolving Kafka $version jars from Maven Central into .cache/kafka/$version/libs ..."
rm -rf "$dest"
mkdir -p "$dest"
tmp="$(mktemp -d "$dest/.libs.XXXXXX")"
# Maven's output is kept aside and shown only on failure: with -q it prints nothing useful but
# stray colour escapes, even into a pipe.
log="$dest/mvn.log"
if ! mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
  -DincludeScope=runtime \
  -DoutputDirectory="$tmp" >"$log" 2>&1; then
  sed 's/\x1b\[[0-9;]*m//g' "$log" >&2
  echo "fetch-kafka: Maven failed (is Maven Central reachable?)" >&2
  exit 1
fi
# Move into place only when complete, so a reader never sees a half-filled libs folder.
mv "$tmp" "$dest/libs"
printf '%s' "$pom_hash" >"$marker"
echo "fetch-kafka: $(ls "$dest/libs" | wc -l) jars in $((SECONDS - start)) s"
