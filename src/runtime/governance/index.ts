/**
 * Stream governance as a worker uses it: the `streams:` declarations, the stream catalog, the
 * schema-change notices and the deprecation warnings, over the worker's Kafka and schema layer.
 * Its pieces start on first use, so a worker that writes nothing opens nothing.
 */
import type { Kafka } from "kafkajs";
import type { AvroSchema } from "../connector.js";
import type { ConnectorConfig, LoadedConfig } from "../config/load.js";
import type { ConnectorState } from "../connector-state.js";
import { lazy } from "../lazy.js";
import type { Logger } from "../log.js";
import { isTopicPattern, topicMatcher } from "../kafka/topics.js";
import type { SchemaCatalog, SubjectSchemaEvent } from "../schema-registry/catalog.js";
import type { SchemaRegistry } from "../schema-registry/registry-api.js";
import { isRecordSchema } from "./record-shape.js";
import { SchemaChangeNotifier } from "./schema-changes.js";
import { SourceGovernance, type StreamObservation } from "./source-governance.js";
import { StreamDeclarations, type Deprecation } from "./metadata.js";
import { catalogItems, metadataFields, StreamCatalog, type CatalogItem, type StreamEntry, type SubjectVersion } from "./stream-catalog.js";

export interface GovernanceDeps {
  kafka: Kafka;
  log: Logger;
}

/** What governance needs of the worker it serves. */
export interface GovernedWorker {
  readonly id: string;
  connector(name: string): ConnectorConfig | undefined;
  onConnectorState(listener: (connector: string, state: ConnectorState) => void): () => void;
}

/** "use X instead; stops on DATE (reason)" */
export function describeDeprecation(d: Deprecation): string {
  const parts = [
    d.replacement ? `use "${d.replacement}" instead` : "",
    d.date ? `it stops being written on ${d.date}` : "",
    d.reason ?? "",
  ].filter(Boolean);
  return parts.length > 0 ? parts.join("; ") : "ask its owner what replaces it";
}

function fullName(schema: AvroSchema): string {
  if (typeof schema === "string") return schema;
  if (!isRecordSchema(schema)) return JSON.stringify((schema as { type?: unknown }).type ?? schema);
  return schema.name.includes(".") || !schema.namespace ? schema.name : `${schema.namespace}.${schema.name}`;
}

export class Governance {
  readonly declarations: StreamDeclarations;
  private readonly log: Logger;
  private readonly catalog;
  private readonly notifier;
  private registry: SchemaRegistry | undefined;
  private worker = "";
  private readonly checkedSinks = new Set<string>();

  constructor(
    private readonly config: LoadedConfig,
    private readonly deps: GovernanceDeps,
  ) {
    this.declarations = new StreamDeclarations(config.root.streams);
    this.log = deps.log.child({ component: "governance" });
    const { replicationFactor } = config.root.kafka.topics;
    this.catalog = lazy(() => StreamCatalog.open(deps.kafka, config.root.governance.catalogTopic, this.log, replicationFactor));
    this.notifier = lazy(() =>
      SchemaChangeNotifier.open({
        kafka: deps.kafka,
        topic: config.root.governance.schemaChangesTopic,
        log: this.log,
        registry: this.registry!,
        worker: this.worker,
        replicationFactor,
        transactionTimeoutMs: config.root.kafka.transactionTimeoutMs,
      }),
    );
  }

  /** The worker's schema-layer factory, hooked so every new version gets its notice and the catalog its versions. */
  schemas<S extends { catalog: SchemaCatalog; registry: SchemaRegistry }, A extends unknown[]>(factory: (...args: A) => Promise<S>): (...args: A) => Promise<S> {
    return async (...args) => {
      const service = await factory(...args);
      this.attach(service);
      return service;
    };
  }

  /** Warns at start about deprecated streams, and when a sink starts reading one. */
  watch(worker: GovernedWorker): void {
    this.worker = worker.id;
    this.announce();
    worker.onConnectorState((name, state) => {
      const connector = worker.connector(name);
      if (state !== "running" || connector?.spec.kind !== "sink" || this.checkedSinks.has(name)) return;
      this.checkedSinks.add(name);
      void this.checkSinkInputs(name, connector.spec.topics(connector.config));
    });
  }

  private attach(schemas: { catalog: SchemaCatalog; registry: SchemaRegistry }): void {
    this.registry = schemas.registry;
    schemas.catalog.onSubjectSchema((event: SubjectSchemaEvent) =>
      this.notifier.get().then(
        (notifier) => notifier.onSubjectSchema(event),
        (err: unknown) => this.log.warn({ err, subject: event.subject }, `cannot open ${this.config.root.governance.schemaChangesTopic}: no schema-change notice for subject "${event.subject}" now`),
      ),
    );
  }

  forSource(connector: { name: string; type: string }): SourceGovernance {
    return new SourceGovernance(connector, {
      declarations: this.declarations,
      log: this.log.child({ connector: connector.name }),
      observe: (o) => this.observe(o),
    });
  }

  /** One warning per deprecated stream the config declares, and per connector name that names none. */
  private announce(): void {
    for (const topic of this.declarations.exactTopics()) {
      const d = this.declarations.resolve(topic).deprecated;
      if (d) this.log.warn({ topic, deprecated: d }, `stream "${topic}" is deprecated: ${describeDeprecation(d)}`);
    }
    const { topics, connectors } = this.config.root.streams;
    for (const [pattern, meta] of Object.entries(topics)) {
      if (!/[*?]/.test(pattern) || !meta.deprecated) continue;
      const d = meta.deprecated === true ? {} : meta.deprecated;
      this.log.warn({ pattern, deprecated: d }, `streams matching "${pattern}" are deprecated: ${describeDeprecation(d)}`);
    }
    for (const [connector, meta] of Object.entries(connectors)) {
      if (!meta.deprecated) continue;
      const d = meta.deprecated === true ? {} : meta.deprecated;
      this.log.warn({ connector, deprecated: d }, `the streams of connector "${connector}" are deprecated: ${describeDeprecation(d)}`);
    }
    const names = new Set(this.config.connectors.map((c) => c.name));
    const { governance } = this.config.root;
    for (const [block, listed] of [
      ["streams.connectors", this.declarations.connectorNames()],
      ["governance.quotas", Object.keys(governance.quotas)],
      ["governance.acls.topics", Object.keys(governance.acls.topics)],
    ] as const) {
      for (const name of listed) if (!names.has(name)) this.log.warn({ block, connector: name }, `${block} names connector "${name}", which the config does not have`);
    }
  }

  /** Warns when a sink reads deprecated streams (so declared in the config, or in the catalog). */
  async checkSinkInputs(connector: string, topics: readonly string[]): Promise<void> {
    const entries = await this.catalog
      .get()
      .then((c) => c.list())
      .catch((err: unknown) => {
        this.log.warn({ err }, "cannot read the stream catalog: deprecation of the sink's inputs is checked against the config only");
        return [] as StreamEntry[];
      });
    const read = topicMatcher(topics);
    for (const topic of new Set([...topics.filter((t) => !isTopicPattern(t)), ...entries.map((e) => e.topic).filter(read)])) {
      const d = this.declarations.resolve(topic).deprecated ?? entries.find((e) => e.topic === topic)?.deprecated ?? undefined;
      if (d) this.log.warn({ connector, topic, deprecated: d }, `connector "${connector}" reads stream "${topic}", which is deprecated: ${describeDeprecation(d)}`);
    }
  }

  /** The catalog, with the declared streams nothing has written yet. */
  async streams(): Promise<CatalogItem[]> {
    return catalogItems(await (await this.catalog.get()).list(), this.declarations);
  }

  async close(): Promise<void> {
    await Promise.all([
      this.catalog.peek()?.then((c) => c.close()).catch(() => undefined),
      this.notifier.peek()?.then((n) => n.close()).catch(() => undefined),
    ]);
  }

  private async observe(o: StreamObservation): Promise<void> {
    try {
      const entry = await this.entryOf(o);
      const catalog = await this.catalog.get();
      if (await catalog.upsert(entry)) {
        this.log.info({ topic: o.topic, subject: entry.subject, version: entry.schemaVersion }, `stream catalog: "${o.topic}" (connector ${o.connector}) is at ${entry.subject} version ${entry.schemaVersion ?? "?"}`);
      }
    } catch (err) {
      this.log.warn({ err, topic: o.topic }, `could not update the stream catalog entry of "${o.topic}"; the next start tries again`);
    }
  }

  private async entryOf(o: StreamObservation): Promise<StreamEntry> {
    const value = await this.subjectVersion(o.valueSubject, o.valueSchema);
    const key = o.keySchema === null ? null : await this.subjectVersion(`${o.topic}-key`, o.keySchema);
    const source = (o.value as { source?: { db?: unknown; table?: unknown } } | null)?.source;
    return {
      topic: o.topic,
      connector: o.connector,
      connectorType: o.connectorType,
      source: source && typeof source.db === "string" ? { db: source.db, table: typeof source.table === "string" ? source.table : null } : null,
      key: o.keySchema === null ? null : isRecordSchema(o.keySchema) ? o.keySchema.fields.map((f) => f.name) : [],
      keySubject: key,
      subject: value.subject,
      schemaVersion: value.version,
      schemaId: value.id,
      valueSubjects: [value],
      ...metadataFields(o.meta),
      pii: o.decorated.pii,
      financial: o.decorated.financial,
      updatedAt: new Date().toISOString(),
    };
  }

  private async subjectVersion(subject: string, schema: AvroSchema): Promise<SubjectVersion> {
    const found = this.registry ? await this.registry.lookup(subject, JSON.stringify(schema)) : null;
    return { subject, version: found?.version ?? null, id: found?.id ?? null, record: fullName(schema) };
  }
}
