import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import "../../../src/connectors.js";
import { parseConfig } from "../../../src/runtime/config/load.js";

const root = join(import.meta.dirname, "../../..");
const documents = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** The YAML blocks of a document that are a config file or a part of one (top-level keys of the root config). */
function configExamples(document: string): { line: number; yaml: string }[] {
  const text = readFileSync(join(root, document), "utf8");
  return [...text.matchAll(/```ya?ml\n([\s\S]*?)```/g)]
    .filter((m) => /^(connectors|streams|governance|cluster|kafka|schemaRegistry|admin):/m.test(m[1]!))
    .map((m) => ({ line: text.slice(0, m.index).split("\n").length + 1, yaml: m[1]! }));
}

/*
 * A user copies these into connectors.yaml: each must pass validation as it is written, with any
 * value for its ${VAR}s, a 32-character secret for ${file:} (PEM for a .pem file), and the kafka/connectors keys a
 * fragment leaves out.
 */
describe.each(documents)("the config examples of %s", (document) => {
  const examples = configExamples(document);
  it.runIf(examples.length > 0)("pass validation", () => {
    for (const { line, yaml } of examples) {
      let text = yaml.replace(/\$\{file:[^}]*\.pem\}/g, "-----BEGIN CERTIFICATE-----").replace(/\$\{file:[^}]*\}/g, "x".repeat(32));
      if (!/^kafka:/m.test(text)) text = `kafka: { brokers: [localhost:9092] }\n${text}`;
      if (!/^connectors:/m.test(text)) text = `${text}\nconnectors: []\n`;
      const env = new Proxy({}, { get: () => "value" }) as NodeJS.ProcessEnv;
      expect(() => parseConfig(text, `${document}:${line}`, { env }), `${document}, the block at line ${line}`).not.toThrow();
    }
  });
});
