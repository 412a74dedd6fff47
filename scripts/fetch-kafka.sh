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

exec bash "$root/scripts/fetch-jars.sh" "$pom" "$root/.cache/kafka/$version" "Kafka $version"
