#!/usr/bin/env bash
# Resolves the runtime jars a pom.xml names from Maven Central into DEST/libs (under the
# git-ignored .cache/), for the Kafka broker of the tests (fetch-kafka.sh) and the Debezium peer
# of `npm run bench -- peer` (bench/peer/pom.xml). Nothing is built.
#   usage: fetch-jars.sh POM DEST LABEL
set -euo pipefail

pom="$1"
dest="$2"
label="$3"

# The marker is written only after every jar is in place, so an interrupted download is redone.
# It records a hash of the pom, so changing a version or a dependency refreshes the jars too.
marker="$dest/.complete"
pom_hash="$(sha256sum "$pom" | cut -d' ' -f1)"
if [[ -f "$marker" && "$(cat "$marker")" == "$pom_hash" ]]; then
  exit 0
fi

if ! command -v mvn >/dev/null 2>&1; then
  echo "fetch-jars: Maven is missing; install it with: apt-get install -y maven" >&2
  exit 1
fi

start=$SECONDS
echo "fetch-jars: resolving $label jars from Maven Central into ${dest#"$(pwd)/"}/libs ..."
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
  echo "fetch-jars: Maven failed (is Maven Central reachable?)" >&2
  exit 1
fi
# Move into place only when complete, so a reader never sees a half-filled libs folder.
mv "$tmp" "$dest/libs"
printf '%s' "$pom_hash" >"$marker"
echo "fetch-jars: $(ls "$dest/libs" | wc -l) jars in $((SECONDS - start)) s"
