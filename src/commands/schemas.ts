import { createKafka } from "../runtime/kafka/client.js";
import { createLogger } from "../runtime/log.js";
import type { StreamDescription } from "../runtime/registry.js";
import { checkSchemas, formatSchemaCheck } from "../runtime/schema-registry/check.js";
import { schemaServiceFactory } from "../runtime/schema-registry/index.js";
import { toLiberatorError } from "../runtime/errors.js";
import { EXIT, loadOrExit } from "./load.js";

/**
 * `liberator schemas check`: each source's streams as its database is now, against the registry.
 * Exit 1 when a change would break consumers (or a source cannot be described), for CI/CD gates.
 */
export async function schemasCheckCommand(file: string): Promise<number> {
  const config = loadOrExit(file);
  const log = createLogger({ level: process.env.LOG_LEVEL ?? "error" });
  const streams: StreamDescription[] = [];
  let failed = false;
  for (const c of config.connectors) {
    if (c.spec.kind !== "source" || !c.spec.describeStreams) continue;
    try {
      streams.push(...(await c.spec.describeStreams(c.config, { connector: c.name, log: log.child({ connector: c.name }) })));
    } catch (err) {
      failed = true;
      process.stderr.write(`connector "${c.name}": cannot describe its streams: ${toLiberatorError(err, c.name).describe()}\n`);
    }
  }
  const service = await schemaServiceFactory(config.root, { kafka: createKafka(config.root.kafka, log), log });
  try {
    const report = await checkSchemas(streams, service.catalog);
    process.stdout.write(`${formatSchemaCheck(report)}\n`);
    return failed ? EXIT.failed : report.exitCode;
  } finally {
    await service.close();
  }
}
