import { hostname } from "node:os";
import type { Kafka } from "kafkajs";
import type { Json, TaskRef, TopicPartitionOffset } from "./connector.js";
import type { ConnectorConfig, LoadedConfig } from "./config/load.js";
import type { RootConfig } from "./config/schema.js";
import { ConnectorRunner } from "./connector-runner.js";
import type { ConnectorState } from "./connector-state.js";
import { answerPerTask, unknownConnector, type ConnectorControl, type ConnectorView } from "./control.js";
import { ErrorCode, LiberatorError } from "./errors.js";
import type { Governance } from "./governance/index.js";
import type { SourceGovernance } from "./governance/source-governance.js";
import { ensureTopics } from "./kafka/admin.js";
import { createKafka } from "./kafka/client.js";
import { ConsumerLagMonitor } from "./kafka/consumer-lag.js";
import { lazy } from "./lazy.js";
import type { Logger } from "./log.js";
import { Metrics } from "./metrics.js";
import { applyOffsetChange, readSinkOffsets, readSourceOffsets, type OffsetChange, type OffsetsView } from "./offsets/connector-offsets.js";
import { SourceOffsetStore } from "./offsets/source-offsets.js";
import { runSinkPipeline, sinkGroupId } from "./pipeline/sink-pipeline.js";
import { runSourcePipeline } from "./pipeline/source-pipeline.js";
import type { PipelineControl, PipelineEnd, SchemaServiceFactory, WorkerServices } from "./pipeline/services.js";
import { diffConfigs, type ConfigDiff } from "./reload.js";
import type { SchemaService } from "./schema-registry/index.js";
import { SINGLE_TASK, taskCount, taskKey, tasksOf } from "./tasks.js";
import { within } from "./within.js";

export interface WorkerOptions {
  log: Logger;
  schemas: SchemaServiceFactory;
  metrics?: Metrics;
  /** This worker's name in status and logs; the host name and process id by default. */
  id?: string;
  /** Stream metadata, PII handling and the catalog, applied to every source's records. */
  governance?: Governance;
}

/** `key`: the task's (taskKey), the connector's name when it runs as one task. */
export type ConnectorStateListener = (connector: string, state: ConnectorState, error: LiberatorError | undefined, key: string) => void;

/** States in which a connector's pipeline holds its producer or sink open. */
export const LIVE_STATES: ReadonlySet<ConnectorState> = new Set(["starting", "waiting", "running", "paused", "retrying", "stopping"]);

/** States of a healthy connector: a sink waiting for its topics to appear is where a new deployment starts. */
const READY_STATES: ReadonlySet<ConnectorState> = new Set(["waiting", "running", "paused", "finished"]);

/** kafkajs's retries inside a connector's own clients: 0.1 + 0.2 + … + 1.6 s, then the runner's backoff. */
const CONNECTOR_KAFKA_RETRY = { initialRetryTime: 100, retries: 5, maxRetryTime: 2_000 };

const defaultWorkerId = (): string => `${hostname()}-${process.pid}`;

/**
 * One process, many connectors. Each connector runs in its own runner; the worker owns what they
 * share (Kafka admin client, schema service, the offsets table) and the order of shutdown. It is
 * also the ConnectorControl of the connectors it runs; in cluster mode a ClusterMember decides
 * which those are.
 */
export class Worker implements WorkerServices, ConnectorControl {
  readonly id: string;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** By task key: a connector's name, or `<name>#<index>` for each of its tasks. */
  private readonly runners = new Map<string, ConnectorRunner>();
  private readonly listeners = new Set<ConnectorStateListener>();
  private readonly sharedKafka: Kafka;
  private readonly schemaService;
  private readonly offsetStore;
  private readonly lagMonitor: ConsumerLagMonitor;
  private readonly governance: Governance | undefined;

  constructor(
    private config: LoadedConfig,
    options: WorkerOptions,
  ) {
    this.id = options.id ?? defaultWorkerId();
    this.log = options.log;
    this.metrics = options.metrics ?? new Metrics();
    this.sharedKafka = createKafka(config.root.kafka, this.log);
    this.schemaService = lazy(async () => {
      const service = await options.schemas(this.config.root, { kafka: this.sharedKafka, log: this.log });
      // the schema versions the status shows, and its notices of changes
      service.catalog.onSubjectSchema(async (e) => this.metrics.schemas.add(e.subject, e.id, e.registered));
      return service;
    });
    this.offsetStore = lazy(() =>
      SourceOffsetStore.open(this.sharedKafka, this.log.child({ component: "offsets" }), config.root.kafka.topics.replicationFactor),
    );
    this.governance = options.governance;
    this.lagMonitor = new ConsumerLagMonitor(this.sharedKafka, this.metrics, config.root.metrics.lagIntervalMs, this.log.child({ component: "consumer-lag" }));
  }

  get root(): RootConfig {
    return this.config.root;
  }

  /** The config the worker runs; after a reload, its new connectors with the root it started with. */
  get loaded(): LoadedConfig {
    return this.config;
  }

  /** A connector of the config, enabled or not. */
  connector(name: string): ConnectorConfig | undefined {
    return this.config.connectors.find((c) => c.name === name);
  }

  sourceGovernance(connector: ConnectorConfig): SourceGovernance | undefined {
    return this.governance?.forSource(connector);
  }

  kafkaFor(connector: string): Kafka {
    // kafkajs's own retries last about 3 s here, not its 20-odd: a broker gone shows as the
    // connector retrying within seconds, and the runner's backoff takes over for as long as it lasts
    return createKafka(this.config.root.kafka, this.log.child({ connector }), connector, { retry: CONNECTOR_KAFKA_RETRY });
  }

  schemas(): Promise<SchemaService> {
    return this.schemaService.get();
  }

  sourceOffsets(): Promise<SourceOffsetStore> {
    return this.offsetStore.get();
  }

  /**
   * Opens what the connectors share (the schema registry, the source offsets topic) before one
   * needs it: a cluster worker handed a connector then starts it without first reading those
   * topics, which took 0.3–1.4 s of a hand-over on a loaded machine. Resolves once done or failed.
   */
  async prepareShared(): Promise<void> {
    const kinds = new Set(this.config.connectors.filter((c) => c.config.enabled).map((c) => c.spec.kind));
    const later = (what: string) => (err: unknown) => this.log.warn({ err }, `could not open ${what} ahead of use; the first connector that needs it tries again`);
    await Promise.all([
      kinds.size > 0 && this.schemas().catch(later("the schema registry")),
      kinds.has("source") && this.sourceOffsets().catch(later("the source offsets")),
    ]);
  }

  async ensureTopics(topics: string[]): Promise<void> {
    const { partitions, replicationFactor } = this.config.root.kafka.topics;
    await ensureTopics(
      this.sharedKafka,
      topics.map((topic) => ({ topic, partitions, replicationFactor })),
    );
  }

  /** Starts every enabled connector, each as its tasks; returns at once, connectors come up in the background. */
  start(): void {
    for (const connector of this.config.connectors) {
      if (connector.config.enabled) void this.startTasks(connector);
    }
  }

  /** How many tasks the connector runs as now (`tasks: auto` asks Kafka for its topics' partitions). */
  taskCount(connector: ConnectorConfig): Promise<number> {
    return taskCount(connector, { admin: () => this.sharedKafka.admin(), partitions: this.config.root.kafka.topics.partitions });
  }

  /** Every task of the connector, in this process (single-process mode). */
  private async startTasks(connector: ConnectorConfig, options: { paused?: boolean } = {}): Promise<void> {
    let count = 1;
    try {
      count = await this.taskCount(connector);
    } catch (err) {
      this.log.warn({ err, connector: connector.name }, "cannot count the partitions of the sink's topics for tasks: auto; running it as one task");
    }
    if (this.connector(connector.name) !== connector) return; // reloaded meanwhile
    for (const task of tasksOf(count)) this.startConnector(connector, { ...options, task });
  }

  /** Starts one task of a connector (by default its only one); a task running already is left as it is. */
  startConnector(connector: ConnectorConfig, options: { paused?: boolean; task?: TaskRef } = {}): ConnectorRunner {
    const task = options.task ?? SINGLE_TASK;
    const key = taskKey(connector.name, task);
    const existing = this.runners.get(key);
    if (existing) return existing;
    const log = this.log.child({ connector: connector.name, type: connector.type, ...(task.count > 1 ? { task: task.index } : {}) });
    const labels = { connector: connector.name, task: String(task.index) };
    const runner = new ConnectorRunner(
      connector,
      (c, control) => this.launch(c, control),
      log,
      (state, error) => {
        this.metrics.setState(connector.name, state, task);
        log.info({ state }, `connector ${state}`);
        for (const listener of this.listeners) listener(connector.name, state, error, key);
      },
      {
        ...options,
        task,
        onFailure: (error, retried) => {
          this.metrics.errors.inc({ ...labels, code: error.code });
          if (retried) this.metrics.retries.inc(labels);
        },
      },
    );
    const first = this.tasksHere(connector.name).length === 0;
    this.runners.set(key, runner);
    if (first && connector.spec.kind === "sink") this.lagMonitor.watch(connector.name, sinkGroupId(connector.name), connector.spec.topics(connector.config));
    runner.start();
    return runner;
  }

  /** Stops every task of the connector that runs here (committing what is in flight) and forgets them. */
  async stopConnector(name: string): Promise<void> {
    await Promise.all(this.tasksHere(name).map((r) => this.stopTask(r.key)));
  }

  /** Stops one task (by its key) and forgets it: it no longer runs here. */
  async stopTask(key: string): Promise<void> {
    const runner = this.runners.get(key);
    if (!runner) return;
    await runner.stop();
    if (this.runners.get(key) !== runner) return;
    this.runners.delete(key);
    const last = this.tasksHere(runner.name).length === 0;
    if (last) this.lagMonitor.unwatch(runner.name);
    this.metrics.forget(runner.name, runner.task, last);
  }

  /** The runner of a task, by its key (a connector's name when it runs as one task). */
  runner(key: string): ConnectorRunner | undefined {
    return this.runners.get(key);
  }

  /** The tasks of a connector that run here. */
  tasksHere(name: string): ConnectorRunner[] {
    return [...this.runners.values()].filter((r) => r.name === name);
  }

  /** Keys of the tasks running here. */
  running(): string[] {
    return [...this.runners.keys()];
  }

  /** Called on every state change of every connector; returns the unsubscribe function. */
  onConnectorState(listener: ConnectorStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Applies a new config: removed connectors stop, changed ones restart with their new config (a
   * paused one stays paused), added ones start, the others run on untouched. Blocks other than
   * `connectors` keep their old values until the next start. `manage: false` only swaps the config,
   * for a cluster member that starts and stops connectors itself.
   */
  async reload(next: LoadedConfig, options: { manage?: boolean } = {}): Promise<ConfigDiff> {
    const diff = diffConfigs(this.config, next);
    this.config = { ...next, root: this.config.root };
    if (options.manage === false) return diff;
    await Promise.all(diff.removed.map((name) => this.stopConnector(name)));
    await Promise.all(diff.changed.map((c) => this.replace(c)));
    for (const c of diff.added) void this.startTasks(c);
    return diff;
  }

  /** Restarts a running connector with a new config of it, keeping it paused if it was. */
  async replace(connector: ConnectorConfig): Promise<void> {
    const paused = this.tasksHere(connector.name)[0]?.isPaused ?? false;
    await this.stopConnector(connector.name);
    await this.startTasks(connector, { paused });
  }

  // ConnectorControl, for the connectors of this worker

  async list(): Promise<ConnectorView[]> {
    return [...this.runners.values()].map((r) => this.view(r));
  }

  /** A connector's view; one that runs as several tasks here shows the first, with every task in `tasks`. */
  async get(name: string): Promise<ConnectorView> {
    const tasks = this.tasksHere(name).map((r) => this.view(r));
    if (tasks.length === 0) return idleView(this.require(name), "stopped");
    return tasks.length === 1 && tasks[0]!.task.count === 1 ? tasks[0]! : { ...tasks[0]!, tasks };
  }

  async pause(name: string): Promise<ConnectorView> {
    for (const r of this.live(name, "pause")) r.pause();
    return this.get(name);
  }

  async resume(name: string): Promise<ConnectorView> {
    for (const r of this.live(name, "resume")) r.resume();
    return this.get(name);
  }

  async restart(name: string): Promise<ConnectorView> {
    const runners = this.tasksHere(name);
    if (runners.length > 0) await Promise.all(runners.map((r) => r.restart()));
    else await this.startTasks(this.require(name));
    return this.get(name);
  }

  /** To every task of the connector here: one answers alone, several as a list of `{task, result}`. */
  async command(name: string, command: string, args: Record<string, Json>): Promise<Json> {
    return answerPerTask(this.live(name, command), (r) => r.key, (r) => r.command(command, args));
  }

  /** A command for one task (by its key) that runs here. */
  async taskCommand(key: string, command: string, args: Record<string, Json>): Promise<Json> {
    const runner = this.runners.get(key);
    return runner ? runner.command(command, args) : this.command(key, command, args);
  }

  async offsets(name: string): Promise<OffsetsView> {
    const connector = this.require(name);
    if (connector.spec.kind === "source") return readSourceOffsets(this, connector);
    const runners = this.tasksHere(name);
    // a sink that runs as one task here, with every partition: what it committed last
    const runner = runners.length === 1 && runners[0]!.task.count === 1 ? runners[0]! : undefined;
    const position = runner && LIVE_STATES.has(runner.state) ? runner.status().position : null;
    return readSinkOffsets(this, connector, position === null ? undefined : offsetsOfPosition(position));
  }

  async setOffsets(name: string, change: OffsetChange, force: boolean): Promise<OffsetsView> {
    const connector = this.require(name);
    const runners = this.tasksHere(name);
    const live = runners.filter((r) => LIVE_STATES.has(r.state));
    const busy = live.find((r) => r.state !== "paused");
    if (busy && !force) {
      throw new LiberatorError(ErrorCode.CONNECTOR_RUNNING, `is ${busy.state} on worker ${this.id}: moving its offsets now would fence it`, {
        connector: name,
        fix: "pause it first, or force it (liberator offsets … --force, PUT …/offsets?force=true): it is stopped, its offsets moved, and it starts again from them",
      });
    }
    // a connector failed at a record is started again past it: moving its offsets is how it is skipped
    const failed = runners.filter((r) => r.state === "failed");
    await Promise.all(live.map((r) => r.stop()));
    try {
      await applyOffsetChange(this, connector, change);
      // read back before the connector starts again and moves them
      const view = await this.offsets(name);
      if (failed.length > 0) {
        this.log.info({ connector: name }, "offsets set on a failed connector: starting it again from them");
        for (const r of failed) r.start();
      }
      return view;
    } finally {
      for (const r of live) r.start();
    }
  }

  private view(runner: ConnectorRunner): ConnectorView {
    const status = runner.status();
    return { ...status, worker: this.id, ...this.metrics.view(status.name, runner.task) };
  }

  private require(name: string): ConnectorConfig {
    const connector = this.connector(name);
    if (!connector) throw unknownConnector(name, this.config.connectors.map((c) => c.name));
    return connector;
  }

  private live(name: string, what: string): ConnectorRunner[] {
    const runners = this.tasksHere(name);
    if (runners.length > 0) return runners;
    this.require(name);
    throw new LiberatorError(ErrorCode.COMMAND_UNAVAILABLE, `cannot ${what}: it does not run (it is disabled or was removed)`, { connector: name });
  }

  /**
   * Ready once every connector it runs is running (or waits for its topics, or has finished its
   * work), or has been retrying no longer than `health.maxRetryingMs`.
   */
  ready(): boolean {
    const now = Date.now();
    const tolerated = this.config.root.health.maxRetryingMs;
    return [...this.runners.values()].every((r) => READY_STATES.has(r.state) || (r.state === "retrying" && r.retryingForMs(now) <= tolerated && tolerated > 0));
  }

  /**
   * Graceful stop, every connector in parallel: it stops reading, and its batch in flight is
   * committed or abandoned at once (a sink rolls it back, to write it again at the next start).
   * Resolves true if all finished within the grace period.
   */
  async stop(gracePeriodMs = this.config.root.shutdown.gracePeriodMs): Promise<boolean> {
    const started = Date.now();
    const clean = await within(Promise.all(this.running().map((key) => this.stopTask(key))), gracePeriodMs);
    // the shared clients hold nothing uncommitted: a broker gone may keep them from closing in time
    await within(this.closeShared().catch(() => undefined), Math.max(0, gracePeriodMs - (Date.now() - started)));
    return clean;
  }

  /** Closes what the connectors share; the worker runs nothing more after it. */
  async closeShared(): Promise<void> {
    const schemas = this.schemaService.peek();
    const offsets = this.offsetStore.peek();
    await Promise.all([
      this.lagMonitor.stop(),
      schemas?.then((s) => s.close()).catch(() => undefined),
      offsets?.then((o) => o.close()).catch(() => undefined),
    ]);
  }

  private async launch(connector: ConnectorConfig, control: PipelineControl): Promise<PipelineEnd> {
    return connector.spec.kind === "sink" ? runSinkPipeline(connector, control, this) : runSourcePipeline(connector, control, this);
  }

}

/** A connector that does not run where the view is made. */
export function idleView(connector: ConnectorConfig, state: ConnectorView["state"]): ConnectorView {
  return {
    name: connector.name,
    type: connector.type,
    kind: connector.spec.kind,
    task: SINGLE_TASK,
    state,
    position: null,
    committedAt: null,
    records: 0,
    restarts: 0,
    lastError: null,
    retry: null,
    lastRecovery: null,
    details: {},
    worker: null,
    lag: null,
    snapshot: null,
    stream: null,
    rowsPerSecond: 0,
    schemas: [],
  };
}

/** A running sink's position (`topic:partition` → next offset, from the sink pipeline) as offsets. */
function offsetsOfPosition(position: Json): TopicPartitionOffset[] {
  if (!position || typeof position !== "object" || Array.isArray(position)) return [];
  return Object.entries(position).map(([key, offset]) => {
    const at = key.lastIndexOf(":");
    return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)), offset: typeof offset === "string" ? offset : JSON.stringify(offset) };
  });
}
