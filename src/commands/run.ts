import type { FastifyInstance } from "fastify";
import { startAdminServer } from "../runtime/http/server.js";
import { connectorRoutes } from "../runtime/http/connector-routes.js";
import { createLogger, type Logger } from "../runtime/log.js";
import { schemaServiceFactory, schemaRoutes } from "../runtime/schema/index.js";
import { Worker } from "../runtime/worker.js";
import { EXIT, loadOrExit } from "./load.js";

/**
 * `liberator run`: starts every connector and the admin API, then waits. SIGTERM or SIGINT stops
 * reading, commits what is in flight and exits 0 within `shutdown.gracePeriodMs`; a second signal
 * exits at once (positions are committed with their records, so nothing is lost either way).
 */
export async function runCommand(file: string): Promise<void> {
  const config = loadOrExit(file);
  const log = createLogger({ level: config.root.log.level });
  log.info({ file: config.file, connectors: config.connectors.map((c) => c.name) }, "starting");
  const worker = new Worker(config, { log, schemas: schemaServiceFactory });

  let admin: FastifyInstance | undefined;
  if (config.root.admin.enabled) {
    admin = await startAdminServer({
      ...config.root.admin,
      log,
      metrics: worker.metrics,
      ready: () => worker.ready(),
      readiness: () => Object.fromEntries(worker.statuses().map((s) => [s.name, s.state])),
      plugins: [connectorRoutes(worker), schemaRoutes(() => worker.schemas())],
    });
  }
  worker.start();
  installSignalHandlers(log, async () => {
    const clean = await worker.stop();
    await admin?.close();
    return clean;
  }, config.root.shutdown.gracePeriodMs);
}

function installSignalHandlers(log: Logger, stop: () => Promise<boolean>, gracePeriodMs: number): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(EXIT.failed);
    }
    stopping = true;
    log.info({ signal, gracePeriodMs }, "stopping: finishing the batches in flight");
    const started = Date.now();
    stop().then(
      (clean) => {
        log.info({ ms: Date.now() - started, clean }, clean ? "stopped" : "grace period over: exiting with work unfinished");
        log.flush();
        process.exit(clean ? EXIT.ok : EXIT.failed);
      },
      (err: unknown) => {
        log.error({ err }, "stopping failed");
        log.flush();
        process.exit(EXIT.failed);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
