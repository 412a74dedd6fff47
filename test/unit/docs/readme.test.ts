import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generatedDocSections, generatedSections, replaceSections } from "../../../scripts/docs-sections.js";

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

describe("docs/", () => {
  for (const [name, sections] of Object.entries(generatedDocSections())) {
    it(`${name} shows its generated sections (the error catalogue…) exactly as the code has them (npx tsx scripts/update-docs.ts rewrites them)`, () => {
      const page = readFileSync(join(import.meta.dirname, "../../..", name), "utf8");
      expect(replaceSections(page, sections)).toBe(page);
    });
  }
});
