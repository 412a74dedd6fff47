/**
 * `npm run bench -- NAME` (or `tsx bench/run.ts NAME`): loads bench/NAME.ts, runs it, prints the
 * human table and, as the very last line, the JSON object of its fields (see report.ts).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startServers, type HarnessInfo } from "../test/harness/start.js";
import { reusableServers } from "../test/harness/state.js";
import { formatReport, type BenchContext, type BenchResult } from "./report.js";
import { warmBroker } from "./warm-up.js";

const name = process.argv[2];
const file = name ? join(dirname(fileURLToPath(import.meta.url)), `${name}.ts`) : undefined;
if (!name || !file || !existsSync(file) || name === "run" || name === "report") {
  process.stderr.write("usage: npm run bench -- NAME   (NAME: a file bench/NAME.ts, e.g. serializer)\n");
  process.exit(2);
}

let stop: (() => Promise<void>) | undefined;
let servers: Promise<HarnessInfo> | undefined;
const context: BenchContext = {
  servers: () =>
    (servers ??= reusableServers().then(async (running) => {
      let info = running;
      if (!info) {
        const harness = await startServers();
        stop = () => harness.stop();
        info = harness.info;
      }
      process.stdout.write(`${await warmBroker(info.kafka.brokers)}\n`);
      return info;
    })),
};

const bench = (await import(file)) as { run(context: BenchContext): Promise<BenchResult> };
try {
  const result = await bench.run(context);
  process.stdout.write(`${formatReport(name, result)}\n`);
} finally {
  await stop?.();
}
