/**
 * Writes the generated parts of README.md (between `<!-- NAME:start -->` and `<!-- NAME:end -->`)
 * from the code they describe, so the docs cannot drift: a unit test fails when they differ.
 *   npx tsx scripts/update-docs.ts          rewrite README.md
 *   npx tsx scripts/update-docs.ts --check  exit 1 if README.md is stale
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generatedSections, replaceSections } from "./docs-sections.js";

const file = join(import.meta.dirname, "..", "README.md");
const current = readFileSync(file, "utf8");
const updated = replaceSections(current, generatedSections());
if (process.argv.includes("--check")) {
  if (updated !== current) {
    process.stderr.write("README.md is stale: run `npx tsx scripts/update-docs.ts`\n");
    process.exit(1);
  }
} else if (updated !== current) {
  writeFileSync(file, updated);
  process.stdout.write("README.md updated\n");
}
