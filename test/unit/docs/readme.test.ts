import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generatedSections, replaceSections } from "../../../scripts/docs-sections.js";

describe("README", () => {
  const readme = readFileSync(join(import.meta.dirname, "../../../README.md"), "utf8");

  it("shows the type mapping exactly as the code maps types (npx tsx scripts/update-docs.ts rewrites it)", () => {
    expect(replaceSections(readme, generatedSections())).toBe(readme);
  });

  it("starts with the two commands a new user types: the demo and the tests", () => {
    const firstBlock = /```(?:bash|sh)?\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    expect(firstBlock).toMatch(/^npm run demo\b/m);
    expect(firstBlock).toMatch(/^npm test\b/m);
  });
});
