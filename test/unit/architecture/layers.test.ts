import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../../../", import.meta.url));
const cli = `${repo}node_modules/dependency-cruiser/bin/dependency-cruise.mjs`;

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** The rules of `npm run lint`, run from `cwd` on its `src` folder. */
async function cruise(cwd: string): Promise<Violation[]> {
  const { stdout } = await run(process.execPath, [cli, "src", "--config", `${repo}.dependency-cruiser.cjs`, "--output-type", "json"], { cwd, maxBuffer: 64 << 20 });
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe("the layer rules (.dependency-cruiser.cjs)", () => {
  it("catch every deliberate violation of the fixture tree, each under its rule", async () => {
    const found = (await cruise(fileURLToPath(new URL("./fixture/", import.meta.url)))).map((v) => `${v.rule.name}: ${v.from} -> ${v.to.replace(/^.*node_modules\//, "npm:")}`);
    expect(found.sort()).toEqual(
      [
        "connector-imported-outside-catalogue: src/cli.ts -> src/sinks/s/index.ts",
        "connects-outside-db-layer: src/sources/b/index.ts -> npm:mysql2/promise.js",
        "connector-imported-outside-catalogue: src/runtime/worker.ts -> src/sources/b/index.ts",
        "connector-reaches-kafka-cluster-or-http: src/sources/a/index.ts -> npm:kafkajs/index.js",
        "kafka-or-avro-knows-a-database: src/runtime/kafka/client.ts -> npm:pg/esm/index.mjs",
        "lifecycle-depends-on-admin-api: src/runtime/worker.ts -> src/runtime/http/routes.ts",
        "no-cycle: src/runtime/cycle-a.ts -> src/runtime/cycle-b.ts",
        "runtime-imports-connector: src/runtime/worker.ts -> src/sources/b/index.ts",
        "schema-layer-serves-http: src/runtime/avro/types.ts -> src/runtime/http/routes.ts",
        "source-imports-other-connector: src/sources/a/index.ts -> src/sinks/s/index.ts",
        "source-imports-other-connector: src/sources/a/index.ts -> src/sources/b/index.ts",
      ].sort(),
    );
  }, 120_000);
});
