import { ERROR_CATALOGUE, type ErrorCategory } from "../src/runtime/error-catalogue.js";
import { mappingMarkdown } from "../src/runtime/sql-types/mapping-doc.js";

/** Generated README sections, by marker name. */
export function generatedSections(): Record<string, string> {
  return { mapping: mappingMarkdown() };
}

/** Generated sections of the pages under docs/, by file (from the repository's root) and marker name. */
export function generatedDocSections(): Record<string, Record<string, string>> {
  return { "docs/errors.md": { errors: errorsMarkdown() } };
}

const CATEGORY_ORDER: ErrorCategory[] = ["transient", "data", "configuration", "internal"];

/** The error catalogue as one table per category: code, retried or not, what it means, what to do. */
export function errorsMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  const out: string[] = [];
  for (const category of CATEGORY_ORDER) {
    const entries = Object.entries(ERROR_CATALOGUE).filter(([, e]) => e.category === category);
    out.push(`### ${category}`, "", "| code | retried | what happened | what to do |", "| --- | --- | --- | --- |");
    for (const [code, e] of entries) out.push(`| \`${code}\` | ${e.retriable ? "yes" : "no"} | ${cell(e.description)} | ${cell(e.fix)} |`);
    out.push("");
  }
  return out.join("\n").trimEnd();
}

export function replaceSections(text: string, sections: Record<string, string>): string {
  let out = text;
  for (const [name, body] of Object.entries(sections)) {
    const start = `<!-- ${name}:start -->`;
    const end = `<!-- ${name}:end -->`;
    const i = out.indexOf(start);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`no ${start} … ${end} markers`);
    out = `${out.slice(0, i + start.length)}\n${body}\n${out.slice(j)}`;
  }
  return out;
}
