import { createHash } from "node:crypto";
import { readFileSync, watch } from "node:fs";
import { basename, dirname } from "node:path";
import type { FastifyInstance } from "fastify";
import { ClusterControl } from "../runtime/cluster/cluster-control.js";
import type { ClusterMember } from "../runtime/cluster/cluster-member.js";
import { loadCluster } from "../runtime/cluster/load.js";
import { loadConfig, type LoadedConfig } from "../runtime/config/load.js";
import type { ConnectorControl } from "../runtime/control.js";
import { ConfigError } from "../runtime/errors.js";
import { Governance } from "../runtime/governance/index.js";
import { startAdminServer } from "../runtime/http/server.js";
import { connectorRoutes } from "../runtime/http/connector-routes.js";
import { registryRoutes } from "../runtime/http/registry-routes.js";
import { statusPage } from "../runtime/http/status-page.js";
import { statusRoutes } from "../runtime/http/status-routes.js";
import { streamRoutes } from "../runtime/http/stream-routes.js";
import { createKafka } from "../runtime/kafka/client.js";
import { createLogger, type Logger } from "../runtime/log.js";
import { isEmptyDiff, type ConfigDiff } from "../runtime/reload.js";
import { schemaServiceFactory } from "../runtime/schema-registry/index.js";
import { Worker } from "../runtime/worker.js";
import { within } from "../runtime/within.js";
import { checkPatchesOrExit, EXIT, loadOrExit } from "./load.js";

/**
 * `liberator run`: starts every connector (or, with `cluster:`, joins the cluster and runs its share)
 * and the admin API, then waits. SIGHUP (or a change of the file, with reload.watch) applies a new
 * config without stopping the connectors it leaves as they were. SIGTERM or SIGINT stops reading,
 * commits or abandons what is in flight, hands cluster connectors to the other workers and exits 0 within
 * `shutdown.gracePeriodMs`; a second signal exits at once (positions are committed with their
 * records, so nothing is lost either way).
 */
export async function runCommand(file: string): Promise<void> {
  checkPatchesOrExit();
  const config = loadOrExit(file);
  const log = createLogger({ level: config.root.log.level });
  const cluster = config.root.cluster;
  const governance = new Governance(config, { kafka: createKafka(config.root.kafka, log), log });
  const schemas = governance.schemas(schemaServiceFactory);
  const worker = new Worker(config, { log, schemas, governance, ...(cluster?.workerId ? { id: cluster.workerId } : {}) });
  governance.watch(worker);
  log.info({ file: config.file, worker: worker.id, connectors: config.connectors.map((c) => c.name), cluster: cluster !== undefined }, "starting");

  let member: ClusterMember | undefined;
  let control: ConnectorControl = worker;
  if (cluster) {
    const { ClusterClient, ClusterMember } = await loadCluster();
    const clusterLog = log.child({ component: "cluster" });
    const client = new ClusterClient(cluster, worker.id, clusterLog);
    member = new ClusterMember(worker, client, clusterLog);
    control = new ClusterControl(worker, client);
  }

  let admin: FastifyInstance | undefined;
  if (config.root.admin.enabled) {
    admin = await startAdminServer({
      ...config.root.admin,
      log,
      metrics: worker.metrics,
      ready: () => member?.ready() ?? worker.ready(),
      readiness: () => Object.fromEntries(worker.running().map((name) => [name, worker.runner(name)?.state])),
      plugins: [connectorRoutes(control), statusRoutes(control), statusPage(log), registryRoutes(async () => (await worker.schemas()).registry), streamRoutes(governance)],
    });
  }
  // the signals are ours before anything runs: a SIGHUP would otherwise end the process
  const started = member ? member.start() : Promise.resolve(worker.start());
  const apply = (next: LoadedConfig) => (member ? member.reload(next) : worker.reload(next));
  installReload(config, log, apply, started);
  const grace = config.root.shutdown.gracePeriodMs;
  installSignalHandlers(log, async () => {
    const started = Date.now();
    const left = () => Math.max(0, grace - (Date.now() - started));
    const handedOver = member ? await within(member.stop(), grace) : true;
    const clean = await worker.stop(left());
    // clients that cannot close in the time left (a broker gone) hold nothing that is not committed
    await within(Promise.all([admin?.close(), governance.close()]).catch(() => undefined), left());
    return handedOver && clean;
  }, grace);
  await started;
}

/**
 * SIGHUP, and with `reload.watch` a change of the file's content, reload the config. A file with
 * problems is refused: they are logged and the running config stays. Reloads run one at a time.
 */
function installReload(initial: LoadedConfig, log: Logger, apply: (next: LoadedConfig) => Promise<ConfigDiff>, started: Promise<unknown>): void {
  const file = initial.file;
  const digest = () => createHash("sha256").update(readFileSync(file)).digest("hex");
  let loadedDigest = digest();
  // a reload signalled while starting waits for the start
  let queue: Promise<void> = started.then(
    () => undefined,
    () => undefined,
  );
  const reload = (trigger: string) => {
    queue = queue.then(async () => {
      let next: LoadedConfig;
      try {
        loadedDigest = digest();
        next = loadConfig(file);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        log.error({ trigger, problems: err.problems }, `config not reloaded: ${err.problems.length} problem(s) in ${basename(file)}; the running config stays`);
        return;
      }
      const diff = await apply(next);
      if (isEmptyDiff(diff)) {
        log.info({ trigger }, "config reloaded: nothing changed");
        return;
      }
      log.info(
        { trigger, added: diff.added.map((c) => c.name), removed: diff.removed, changed: diff.changed.map((c) => c.name) },
        "config reloaded: connectors added, removed and changed as listed; the others run on untouched",
      );
      if (diff.rootChanged.length > 0) {
        log.warn({ blocks: diff.rootChanged }, `changes to ${diff.rootChanged.join(", ")} take effect at the next start only`);
      }
    }).catch((err: unknown) => log.error({ err, trigger }, "reloading the config failed"));
  };
  process.on("SIGHUP", () => reload("SIGHUP"));
  if (!initial.root.reload.watch) return;
  // the folder, not the file: a Kubernetes ConfigMap update swaps a symlink beside it
  let pending: NodeJS.Timeout | undefined;
  const watcher = watch(dirname(file), () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      let now: string;
      try {
        now = digest();
      } catch {
        return; // mid-swap: the next event comes
      }
      if (now !== loadedDigest) reload("file changed");
    }, 300);
  });
  watcher.unref();
}

function installSignalHandlers(log: Logger, stop: () => Promise<boolean>, gracePeriodMs: number): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(EXIT.failed);
    }
    stopping = true;
    log.info({ signal, gracePeriodMs }, "stopping: batches in flight are committed or abandoned, never waited out");
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
