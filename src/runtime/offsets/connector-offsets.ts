/**
 * Reading and moving a connector's offsets, for `liberator offsets` and `PUT /connectors/{name}/offsets`.
 * The caller makes sure the connector is not running meanwhile: a source position is written with
 * the connector's own transactional id and a sink's offsets through a claim of their partitions (a
 * new epoch for each), so a copy still running would be fenced.
 */
import type { Admin } from "kafkajs";
import { z } from "zod";
import type { ConnectorMetrics, Json, Position, Sink, TopicPartitionOffset } from "../connector.js";
import type { ConnectorConfig } from "../config/load.js";
import { int } from "../config/fields.js";
import { ErrorCode, LiberatorError } from "../errors.js";
import { withAdmin } from "../kafka/admin.js";
import { listResolvedTopics } from "../kafka/topics.js";
import { TransactionalProducer } from "../kafka/producer.js";
import type { Logger } from "../log.js";
import { SOURCE_OFFSETS_TOPIC } from "./source-offsets.js";
import type { WorkerServices } from "../pipeline/services.js";
import { SINGLE_TASK, transactionalId } from "../tasks.js";
import { fenceTasks } from "../pipeline/source-generations.js";

const json: z.ZodType<Json> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(json), z.record(z.string(), json)]),
);

/** One change of offsets, as the admin API takes it and the CLI builds it. */
export const offsetChangeSchema = z.union([
  /** A source's position, in its type's own shape (docs/operations.md lists them). */
  z.strictObject({ position: json.refine((p) => p !== null, "must not be null; use reset to start afresh") }),
  /** A source starts afresh (e.g. snapshots again); a sink reads its topics from the beginning. */
  z.strictObject({ reset: z.literal(true) }),
  /** A sink skips to the first or past the last record of its topics. */
  z.strictObject({ to: z.enum(["earliest", "latest"]) }),
  /** A sink reads from the first record at or after this time. */
  z.strictObject({ toTime: z.iso.datetime({ offset: true }) }),
  /** A sink reads these partitions from these offsets; `topic` may be left out when it reads one topic. */
  z.strictObject({
    offsets: z
      .array(
        z.strictObject({
          topic: z.string().optional(),
          partition: int(0),
          offset: z.union([int(0), z.string().regex(/^\d+$/, "must be a whole number")]).transform(String),
        }),
      )
      .min(1),
  }),
]);

export type OffsetChange = z.infer<typeof offsetChangeSchema>;

export interface PartitionOffsetView {
  topic: string;
  partition: number;
  /** The next offset the sink reads; null when it has stored none (it starts at the earliest). */
  offset: string | null;
  /** The partition's end (the last stable offset). */
  end: string;
  /** Records between them. */
  lag: number;
}

export type OffsetsView =
  | { connector: string; kind: "source"; position: Position | null; committedAt: string | null }
  | { connector: string; kind: "sink"; partitions: PartitionOffsetView[] };

type OffsetServices = Pick<WorkerServices, "root" | "log" | "metrics" | "kafkaFor" | "sourceOffsets">;

/** A change that does not fit the connector's kind or its topics. */
export const offsetsInvalid = (connector: string, message: string, fix?: string) =>
  new LiberatorError(ErrorCode.OFFSETS_INVALID, message, fix === undefined ? { connector } : { connector, fix });

/** A source that splits its work over tasks: its tasks' positions as one (each part where its last owner left it). */
export async function readSourceOffsets(services: OffsetServices, connector: ConnectorConfig): Promise<OffsetsView> {
  const store = await services.sourceOffsets();
  const merge = connector.spec.kind === "source" ? connector.spec.mergePositions : undefined;
  if (merge) {
    const all = await store.readTasks(connector.name);
    const position = all.length > 0 ? merge(all.map((s) => s.position)) : null;
    return { connector: connector.name, kind: "source", position, committedAt: all.at(-1)?.committedAt ?? null };
  }
  const stored = await store.read(connector.name);
  return { connector: connector.name, kind: "source", position: stored?.position ?? null, committedAt: stored?.committedAt ?? null };
}

/**
 * A sink's offsets with its topics' ends. `stored` is what a running sink last committed; without
 * it the sink is opened to read them (reading claims nothing).
 */
export async function readSinkOffsets(services: OffsetServices, connector: ConnectorConfig, stored?: TopicPartitionOffset[]): Promise<OffsetsView> {
  const [topics, ends] = await withAdmin(services.kafkaFor(connector.name), async (admin) => {
    const topics = await sinkTopics(admin, connector);
    return [topics, await topicOffsets(admin, topics)] as const;
  });
  const offsets = stored ?? (await withSink(services, connector, (sink) => sink.offsets(topics)));
  const byPartition = new Map(offsets.map((o) => [`${o.topic}:${o.partition}`, o.offset]));
  const partitions = ends.map(({ topic, partition, low, high }) => {
    const offset = byPartition.get(`${topic}:${partition}`) ?? null;
    return { topic, partition, offset, end: high, lag: Number(BigInt(high) - BigInt(offset ?? low)) };
  });
  return { connector: connector.name, kind: "sink", partitions };
}

export async function applyOffsetChange(services: OffsetServices, connector: ConnectorConfig, change: OffsetChange): Promise<void> {
  if (connector.spec.kind === "source") {
    if (!("position" in change) && !("reset" in change)) {
      throw offsetsInvalid(connector.name, `a source's offsets are its position: set one (--position '<json>') or reset it`);
    }
    await writeSourcePosition(services, connector, "position" in change ? change.position : null);
    return;
  }
  if ("position" in change) {
    throw offsetsInvalid(connector.name, "a sink's offsets are per partition, not a position", "use --to-earliest, --to-latest, --to-time or --partition/--offset");
  }
  const offsets = await withAdmin(services.kafkaFor(connector.name), (admin) => sinkTargets(admin, connector, change));
  // claimed first: a task that still held one of them is fenced from it
  await withSink(services, connector, async (sink) => {
    await sink.claim(offsets);
    await sink.write({ records: [], offsets });
  });
  services.log.info({ connector: connector.name, offsets }, "sink offsets set");
}

/**
 * The new position in one transaction of the connector's own transactional id, after the ids of
 * its tasks (it runs as several) are fenced; null writes a tombstone. The positions its tasks stored (it ran as several) are deleted in the same
 * transaction: each task then starts from this one.
 */
async function writeSourcePosition(services: OffsetServices, connector: ConnectorConfig, position: Position | null): Promise<void> {
  const { transactionTimeoutMs } = services.root.kafka;
  const producer = new TransactionalProducer(services.kafkaFor(connector.name), {
    transactionalId: transactionalId(connector.name, { count: 1 }, 0),
    connector: connector.name,
    transactionTimeoutMs,
  });
  const store = await services.sourceOffsets();
  const tasks = (await store.readTasks(connector.name)).filter((s) => s.key !== connector.name);
  // a task of several left running where nobody sees it (a frozen worker) commits no position after this one
  const generation = await store.generation(connector.name);
  if (generation && generation.count > 1) await fenceTasks({ connector: connector.name, kafka: () => services.kafkaFor(connector.name), transactionTimeoutMs }, generation);
  try {
    await producer.connect();
    await producer.commit([
      ...tasks.map((s) => ({ topic: SOURCE_OFFSETS_TOPIC, key: Buffer.from(s.key), value: null })),
      position === null ? { topic: SOURCE_OFFSETS_TOPIC, key: Buffer.from(connector.name), value: null } : store.message(connector.name, position),
    ]);
  } finally {
    await producer.disconnect();
  }
  services.log.info({ connector: connector.name, position }, position === null ? "source position reset" : "source position set");
}

async function sinkTargets(admin: Admin, connector: ConnectorConfig, change: Exclude<OffsetChange, { position: Json }>): Promise<TopicPartitionOffset[]> {
  const topics = await sinkTopics(admin, connector);
  if ("offsets" in change) {
    const known = await topicOffsets(admin, topics);
    return change.offsets.map(({ topic, partition, offset }) => {
      const t = topic ?? (topics.length === 1 ? topics[0]! : undefined);
      if (t === undefined) throw offsetsInvalid(connector.name, `the sink reads ${topics.length} topics (${topics.join(", ")}): say which one (--topic)`);
      if (!known.some((k) => k.topic === t && k.partition === partition)) {
        throw offsetsInvalid(connector.name, `the sink reads no partition ${t}/${partition}`, `partitions: ${known.map((k) => `${k.topic}/${k.partition}`).join(", ")}`);
      }
      return { topic: t, partition, offset };
    });
  }
  if ("toTime" in change) {
    const at = Date.parse(change.toTime);
    const perTopic = await Promise.all(
      topics.map(async (topic) => (await admin.fetchTopicOffsetsByTimestamp(topic, at)).map(({ partition, offset }) => ({ topic, partition, offset }))),
    );
    return perTopic.flat();
  }
  const latest = "to" in change && change.to === "latest";
  return (await topicOffsets(admin, topics)).map(({ topic, partition, low, high }) => ({ topic, partition, offset: latest ? high : low }));
}

async function topicOffsets(admin: Admin, topics: readonly string[]) {
  const perTopic = await Promise.all(
    topics.map(async (topic) => (await admin.fetchTopicOffsets(topic)).map(({ partition, low, high }) => ({ topic, partition, low, high }))),
  );
  return perTopic.flat().sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** The topics of a sink's config that exist now (patterns matched). */
async function sinkTopics(admin: Admin, connector: ConnectorConfig): Promise<string[]> {
  if (connector.spec.kind !== "sink") throw new Error(`${connector.name} is not a sink`);
  return (await listResolvedTopics(admin, connector.spec.topics(connector.config))).topics;
}

/** A sink of the connector's own, opened for offsets only, and closed again. */
async function withSink<T>(services: OffsetServices, connector: ConnectorConfig, fn: (sink: Sink) => Promise<T>): Promise<T> {
  if (connector.spec.kind !== "sink") throw new Error(`${connector.name} is not a sink`);
  const log: Logger = services.log.child({ connector: connector.name, purpose: "offsets" });
  const metrics: ConnectorMetrics = services.metrics.forConnector(connector.name);
  const sink = connector.spec.create(connector.config, { connector: connector.name, task: SINGLE_TASK, log, signal: new AbortController().signal, metrics });
  try {
    await sink.open();
    return await fn(sink);
  } finally {
    await sink.close().catch((err: unknown) => log.warn({ err }, "closing the sink failed"));
  }
}
