import type { Kafka } from "kafkajs";
import type { SchemaGate, SourceContext } from "./connector.js";
import type { ConnectorConfig, LoadedConfig } from "./config/load.js";
import type { RootConfig } from "./config/schema.js";
import { ConnectorRunner, type ConnectorStatusReport, type PipelineControl } from "./connector-runner.js";
import { Metrics } from "./http/metrics.js";
import { ensureTopics } from "./kafka/admin.js";
import { createKafka } from "./kafka/client.js";
import { TransactionalProducer } from "./kafka/producer.js";
import { lazy } from "./lazy.js";
import type { Logger } from "./log.js";
import { SourceOffsetStore } from "./offsets/source-offsets.js";
import { runSinkPipeline } from "./pipeline/sink-pipeline.js";
import { runSourcePipeline, type PipelineEnd } from "./pipeline/source-pipeline.js";
import type { SchemaRegistry } from "./schema/registry-api.js";
import type { RecordDeserializer, RecordSerializer } from "./schema/serde.js";

/** The schema layer as the worker sees it (built by src/runtime/schema). */
export interface SchemaService {
  serializer: RecordSerializer;
  deserializer: RecordDeserializer;
  gate: SchemaGate;
  /** Served on the admin port (the Confluent REST API) and read by `schemas check`. */
  registry: SchemaRegistry;
  close(): Promise<void>;
}

export type SchemaServiceFactory = (root: RootConfig, deps: { kafka: Kafka; log: Logger }) => Promise<SchemaService>;

/** What pipelines share inside one worker process. */
export interface WorkerServices {
  readonly root: RootConfig;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** A Kafka client of the connector's own, so its connections are not shared. */
  kafkaFor(connector: string): Kafka;
  schemas(): Promise<SchemaService>;
  sourceOffsets(): Promise<SourceOffsetStore>;
  ensureTopics(topics: string[]): Promise<void>;
}

export interface WorkerOptions {
  log: Logger;
  schemas: SchemaServiceFactory;
  metrics?: Metrics;
}

/**
 * One process, many connectors. Each connector runs in its own runner; the worker owns what they
 * share (Kafka admin client, schema service, the offsets table) and the order of shutdown.
 */
export class Worker implements WorkerServices {
  readonly metrics: Metrics;
  readonly log: Logger;
  private readonly runners = new Map<string, ConnectorRunner>();
  private readonly sharedKafka: Kafka;
  private readonly schemaService;
  private readonly offsetStore;

  constructor(
    private config: LoadedConfig,
    options: WorkerOptions,
  ) {
    this.log = options.log;
    this.metrics = options.metrics ?? new Metrics();
    this.sharedKafka = createKafka(config.root.kafka, this.log);
    this.schemaService = lazy(() => options.schemas(this.config.root, { kafka: this.sharedKafka, log: this.log }));
    this.offsetStore = lazy(() =>
      SourceOffsetStore.open(this.sharedKafka, this.log.child({ component: "offsets" }), config.root.kafka.topics.replicationFactor),
    );
  }

  get root(): RootConfig {
    return this.config.root;
  }

  kafkaFor(connector: string): Kafka {
    return createKafka(this.config.root.kafka, this.log.child({ connector }), connector);
  }

  schemas(): Promise<SchemaService> {
    return this.schemaService.get();
  }

  sourceOffsets(): Promise<SourceOffsetStore> {
    return this.offsetStore.get();
  }

  async ensureTopics(topics: string[]): Promise<void> {
    const { partitions, replicationFactor } = this.config.root.kafka.topics;
    await ensureTopics(
      this.sharedKafka,
      topics.map((topic) => ({ topic, partitions, replicationFactor })),
    );
  }

  /** Starts every enabled connector; returns at once, connectors come up in the background. */
  start(): void {
    for (const connector of this.config.connectors) {
      if (connector.config.enabled) this.startConnector(connector);
    }
  }

  startConnector(connector: ConnectorConfig): ConnectorRunner {
    const existing = this.runners.get(connector.name);
    if (existing) return existing;
    const log = this.log.child({ connector: connector.name, type: connector.type });
    const runner = new ConnectorRunner(
      connector,
      (c, control) => this.launch(c, control),
      log,
      (state, error) => {
        this.metrics.setState(connector.name, state);
        if (error) this.metrics.errors.inc({ connector: connector.name, code: error.code });
        if (state === "retrying") this.metrics.retries.inc({ connector: connector.name });
        log.info({ state }, `connector ${state}`);
      },
    );
    this.runners.set(connector.name, runner);
    runner.start();
    return runner;
  }

  async stopConnector(name: string): Promise<void> {
    const runner = this.runners.get(name);
    if (!runner) return;
    await runner.stop();
    this.runners.delete(name);
  }

  runner(name: string): ConnectorRunner | undefined {
    return this.runners.get(name);
  }

  statuses(): ConnectorStatusReport[] {
    return [...this.runners.values()].map((r) => r.status());
  }

  /** Ready once every connector it runs is running (or has finished its work). */
  ready(): boolean {
    return [...this.runners.values()].every((r) => r.state === "running" || r.state === "finished" || r.state === "paused");
  }

  /**
   * Graceful stop: every connector stops reading and commits what is in flight, in parallel.
   * Resolves true if all finished within the grace period.
   */
  async stop(gracePeriodMs = this.config.root.shutdown.gracePeriodMs): Promise<boolean> {
    const all = Promise.all([...this.runners.values()].map((r) => r.stop())).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), gracePeriodMs)));
    const clean = await Promise.race([all, timeout]);
    clearTimeout(timer);
    await this.closeShared();
    return clean;
  }

  private async closeShared(): Promise<void> {
    const schemas = this.schemaService.peek();
    const offsets = this.offsetStore.peek();
    await Promise.all([
      schemas?.then((s) => s.close()).catch(() => undefined),
      offsets?.then((o) => o.close()).catch(() => undefined),
    ]);
  }

  private async launch(connector: ConnectorConfig, control: PipelineControl): Promise<PipelineEnd> {
    return connector.spec.kind === "sink" ? runSinkPipeline(connector, control, this) : this.launchSource(connector, control);
  }

  private async launchSource(connector: ConnectorConfig, control: PipelineControl): Promise<PipelineEnd> {
    if (connector.spec.kind !== "source") throw new Error("not a source");
    const log = this.log.child({ connector: connector.name, type: connector.type });
    const [schemas, offsets] = await Promise.all([this.schemas(), this.sourceOffsets()]);
    const metrics = this.metrics.forConnector(connector.name);
    const ctx: SourceContext = {
      connector: connector.name,
      log,
      signal: control.signal,
      metrics,
      schemas: schemas.gate,
      limits: { maxBatchRecords: connector.config.batch.maxRecords, maxBatchBytes: connector.config.batch.maxBytes },
    };
    const source = connector.spec.create(connector.config, ctx);
    const producer = new TransactionalProducer(this.kafkaFor(connector.name), {
      transactionalId: `liberator-${connector.name}`,
      connector: connector.name,
      transactionTimeoutMs: this.config.root.kafka.transactionTimeoutMs,
    });
    try {
      return await runSourcePipeline({
        connector: connector.name,
        source,
        producer,
        offsets,
        serializer: schemas.serializer,
        ensureTopics: (topics) => this.ensureTopics(topics),
        log,
        metrics,
        ...control,
      });
    } finally {
      await source.close().catch((err: unknown) => log.warn({ err }, "closing the source failed"));
      await producer.disconnect();
    }
  }
}
