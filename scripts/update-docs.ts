/**
 * Writes the generated parts of README.md and docs/*.md (between `<!-- NAME:start -->` and `<!-- NAME:end -->`)
 * from the code they describe, so the docs cannot drift: a unit test fails when they differ.
 *   npx tsx scripts/update-docs.ts          rewrite them
 *   npx tsx scripts/update-docs.ts --check  exit 1 if one is stale
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generatedDocSections, generatedSections, replaceSections } from "./docs-sections.js";

const root = join(import.meta.dirname, "..");
const pages: [string, Record<string, string>][] = [["README.md", generatedSections()], ...Object.entries(generatedDocSections())];
let stale = false;
for (const [name, sections] of pages) {
  const file = join(root, name);
  const current = readFileSync(file, "utf8");
  const updated = replaceSections(current, sections);
  if (updated === current) continue;
  if (process.argv.includes("--check")) {
    process.stderr.write(`${name} is stale: run \`npx tsx scripts/update-docs.ts\`\n`);
    stale = true;
  } else {
    writeFileSync(file, updated);
    process.stdout.write(`${name} updated\n`);
  }
}
if (stale) process.exit(1);
