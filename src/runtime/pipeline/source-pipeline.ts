import type { ChangeRecord, ConnectorMetrics, Position, Source, SourceBatch, SourceContext } from "../connector.js";
import type { ConnectorConfig } from "../config/load.js";
import type { SourceGovernance } from "../governance/source-governance.js";
import { withAdmin } from "../kafka/admin.js";
import { abortHanging } from "../kafka/hanging-transactions.js";
import { TransactionalProducer, type OutgoingMessage } from "../kafka/producer.js";
import type { Logger } from "../log.js";
import type { SourceOffsetStore } from "../offsets/source-offsets.js";
import type { RecordSerializer } from "../schema-registry/serde.js";
import { generationOf, positionKey, transactionalId } from "../tasks.js";
import { fenceEarlierGeneration } from "./source-generations.js";
import type { LiveConnector, PipelineControl, PipelineEnd, WorkerServices } from "./services.js";

interface SourcePipelineParts {
  connector: string;
  /**
   * What its position is stored under: the connector's name, or its task's index and generation when
   * it runs as several tasks (each task its own position, and its own producer: one id would fence the others).
   */
  positionKey: string;
  /** A source that splits its work: its share of every position the connector's tasks stored. */
  mergePositions?: (positions: Position[]) => Position;
  /** A source split over tasks: fences the tasks of the generation before this one (source-generations.ts). */
  fenceEarlierTasks?: () => Promise<void>;
  source: Source;
  producer: TransactionalProducer;
  offsets: SourceOffsetStore;
  serializer: RecordSerializer;
  /** Stream metadata and PII handling applied to every record before serialization; the catalog told of new streams. */
  governance?: SourceGovernance;
  /** Creates output topics: the source's own at start, any other the first time a batch writes to it. */
  ensureTopics(topics: string[]): Promise<void>;
  /** Aborts hanging transactions on these topics (hanging-transactions.ts); never throws. */
  abortHanging(topics: string[]): Promise<void>;
  log: Logger;
  metrics: ConnectorMetrics;
  /** What one Kafka transaction holds at most (batch.maxRecords, batch.maxBytes of record data). */
  limits: { maxRecords: number; maxBytes: number };
  /** A source whose reads are gathered (SourceSpec.gathersReads): the records it is asked for at a time. */
  readRecords?: number;
  /** Aborted on stop: the batch in flight is committed, nothing new is read. */
  signal: AbortSignal;
  /** Resolves when the connector is not paused. */
  whenResumed(): Promise<void>;
  onOpened(position: Position | null, live?: LiveConnector): void;
  onCommitted(position: Position, records: number): void;
}

/**
 * Records a source that gathers its reads is asked for at a time. Each read is serialized as soon
 * as it is read, so a record's objects (the driver row, the canonical row, the envelope) live a few
 * milliseconds and die in V8's young generation; read 10,000 at a time, they lived until the whole
 * batch was read and were copied into the old generation first (docs/binlog.md, Performance).
 */
const GATHERED_READ_RECORDS = 1000;
/** How long a batch goes on gathering reads: a paced snapshot's chunks still commit as they come. */
const GATHER_MS = 1000;

/** A batch serialized ahead of its commit: its records are no longer needed, only their bytes. */
interface PreparedBatch {
  position: Position;
  records: number;
  /** The records' messages (the position's is added at the commit). */
  messages: OutgoingMessage[];
  perTopic: Map<string, { n: number; bytes: number }>;
  /** Records that show the governance catalog a stream (or schema) it has not seen yet. */
  sightings: readonly ChangeRecord[];
  prepareSeconds: number;
}

/**
 * Assembles a source connector's pipeline from the worker's services, as runSinkPipeline does a
 * sink's: the source with its context, its transactional producer, then the loop below; both
 * closed however it ends.
 */
export async function runSourcePipeline(connector: ConnectorConfig, control: PipelineControl, worker: WorkerServices): Promise<PipelineEnd> {
  const spec = connector.spec;
  if (spec.kind !== "source") throw new Error(`${connector.name} is not a source`);
  const log = worker.log.child({ connector: connector.name, type: connector.type });
  const [schemas, offsets] = await Promise.all([worker.schemas(), worker.sourceOffsets()]);
  const metrics = worker.metrics.forConnector(connector.name, control.task);
  const governance = worker.sourceGovernance(connector);
  const { maxRecords, maxBytes } = connector.config.batch;
  const readRecords = spec.gathersReads ? Math.min(GATHERED_READ_RECORDS, maxRecords) : undefined;
  const ctx: SourceContext = {
    connector: connector.name,
    task: control.task,
    log,
    signal: control.signal,
    metrics,
    schemas: governance ? governance.gate(schemas.gate) : schemas.gate,
    limits: { maxBatchRecords: readRecords ?? maxRecords, maxBatchBytes: maxBytes },
  };
  const source = spec.create(connector.config, ctx);
  const { transactionTimeoutMs } = worker.root.kafka;
  const generation = generationOf(connector, control.task.count);
  const producer = new TransactionalProducer(worker.kafkaFor(connector.name), {
    transactionalId: transactionalId(connector.name, generation, control.task.index),
    connector: connector.name,
    transactionTimeoutMs,
  });
  const fenceEarlierTasks = async () => {
    const kafka = () => worker.kafkaFor(connector.name);
    await fenceEarlierGeneration({ connector: connector.name, generation, offsets, producer, kafka, transactionTimeoutMs, log });
  };
  try {
    return await pumpSource({
      connector: connector.name,
      positionKey: positionKey(connector.name, generation, control.task.index),
      mergePositions: spec.mergePositions,
      ...(spec.autoTasks ? { fenceEarlierTasks } : {}),
      source,
      producer,
      offsets,
      serializer: schemas.serializer,
      governance,
      ensureTopics: (topics) => worker.ensureTopics(topics),
      abortHanging: async (topics) => {
        const left = await withAdmin(worker.kafkaFor(connector.name), (admin) => abortHanging(admin, topics, log)).catch((err: unknown) => {
          // looking needs READ on the topics, which the ACLs Liberator proposes give a source only on its internal topics
          const denied = /AUTHORIZATION_FAILED/.test((err as { type?: string }).type ?? "");
          log[denied ? "info" : "warn"]({ err }, `cannot look for hanging transactions on the connector's topics${denied ? " (it needs READ on them)" : ""}`);
          return "";
        });
        // the connector goes on: only the topics' read_committed readers wait, and the log says why
        if (left) log.error({ topics }, `the connector's topics hold hanging transactions: ${left}`);
      },
      log,
      metrics,
      limits: { maxRecords, maxBytes },
      readRecords,
      ...control,
    });
  } finally {
    await source.close().catch((err: unknown) => log.warn({ err }, "closing the source failed"));
    await producer.disconnect();
  }
}

/**
 * Source → Kafka, exactly once (DESIGN.md §5):
 *   1. the transactional producer starts, fencing older instances and aborting their open transaction
 *      (and, for a source split over tasks, those of the generation of tasks before this one);
 *   2. the last committed position is read (read_committed) and handed to the source;
 *   3. each batch of records and the position after it are sent in ONE transaction; only then is
 *      the source told (ack), e.g. so the outbox may delete what it published.
 * One batch is read and serialized ahead while the previous one commits, so the source and Kafka
 * work in parallel; memory stays bounded by two batches. Serializing it at once lets its records
 * die young: only its encoded bytes wait for the commit before it. The read is told when that
 * commit ends: a source whose changes trickle in may take them until then (see ReadOptions).
 * A source whose reads are gathered is read `readRecords` at a time, each read serialized at once,
 * until a read comes back short, the batch limits are reached or it has gathered for GATHER_MS.
 */
async function pumpSource(parts: SourcePipelineParts): Promise<PipelineEnd> {
  const { source, producer, signal } = parts;
  await producer.connect();
  await parts.fenceEarlierTasks?.();
  const { start, committedAt } = await startPosition(parts);
  parts.log.info({ position: start, committedAt }, start !== null ? "resuming from the committed position" : "no committed position: starting fresh");
  await source.open(start);
  const knownTopics = new Set(await source.topics?.());
  if (knownTopics.size > 0) {
    await parts.ensureTopics([...knownTopics]);
    // a broker that crashed under this connector's last transaction may have left it open on them
    await parts.abortHanging([...knownTopics]);
  }
  parts.onOpened(start, source);

  let lastPosition = JSON.stringify(start);
  const readOnce = async (previousCommitted?: Promise<void>): Promise<PreparedBatch | null> => {
    const t0 = performance.now();
    const batch = await source.read(previousCommitted ? { previousCommitted } : undefined);
    if (!batch) return null;
    // an idle source waits inside read(): timing its empty batches would measure the idleness
    if (batch.records.length > 0) parts.metrics.observe("poll", (performance.now() - t0) / 1000);
    return prepareBatch(parts, batch, knownTopics);
  };
  let ended = false;
  let failed: { error: unknown } | undefined;
  const readGathered = async (previousCommitted?: Promise<void>): Promise<PreparedBatch | null> => {
    if (failed) throw failed.error;
    if (ended) return null;
    const batch = await readOnce(previousCommitted);
    const { readRecords, limits } = parts;
    if (!batch || readRecords === undefined) return batch;
    const until = performance.now() + GATHER_MS;
    let last = batch.records;
    while (last >= readRecords && batch.records < limits.maxRecords && bytesOf(batch) < limits.maxBytes && performance.now() < until && !signal.aborted) {
      let more: PreparedBatch | null;
      try {
        more = await readOnce(previousCommitted);
      } catch (error) {
        // what was read before the failure still goes out; the failure ends the next read
        failed = { error };
        break;
      }
      if (!more) {
        ended = true;
        break;
      }
      append(batch, more);
      last = more.records;
    }
    return batch;
  };
  const readAhead = (previousCommitted?: Promise<void>): Promise<PreparedBatch | null> => {
    const prepared = readGathered(previousCommitted);
    // it may fail while the batch before it commits: handled when awaited, never unhandled
    prepared.catch(() => undefined);
    return prepared;
  };
  let next: Promise<PreparedBatch | null> | undefined = readAhead();
  while (next) {
    const batch = await next;
    next = undefined;
    if (batch === null) return "finished";
    const stopping = signal.aborted;
    let settle!: () => void;
    const committed = new Promise<void>((resolve) => (settle = resolve));
    if (!stopping) {
      await parts.whenResumed();
      if (!signal.aborted) next = readAhead(committed);
    }
    const position = JSON.stringify(batch.position);
    try {
      if (batch.records > 0 || position !== lastPosition) {
        await commitBatch(parts, batch);
        lastPosition = position;
        parts.onCommitted(batch.position, batch.records);
      }
    } finally {
      settle();
    }
    await source.ack(batch.position);
  }
  return "stopped";
}

/**
 * Where a task resumes: its own stored position; for a source that splits its work, its share of
 * what every task of the connector stored, so that a change of the task count (which re-keys the
 * tasks) loses no part's position.
 */
async function startPosition(parts: SourcePipelineParts): Promise<{ start: Position | null; committedAt?: string }> {
  if (!parts.mergePositions) {
    const stored = await parts.offsets.read(parts.positionKey);
    return { start: stored?.position ?? null, committedAt: stored?.committedAt };
  }
  const all = await parts.offsets.readTasks(parts.connector);
  if (all.length === 0) return { start: null };
  return { start: parts.mergePositions(all.map((s) => s.position)), committedAt: all.at(-1)!.committedAt };
}

async function prepareBatch(parts: SourcePipelineParts, batch: SourceBatch, knownTopics: Set<string>): Promise<PreparedBatch> {
  const t0 = performance.now();
  const records = parts.governance ? parts.governance.prepare(batch.records) : batch.records;
  const newTopics = [...new Set(records.map((r) => r.topic))].filter((t) => !knownTopics.has(t));
  if (newTopics.length > 0) {
    await parts.ensureTopics(newTopics);
    for (const t of newTopics) knownTopics.add(t);
  }
  const encoded = await parts.serializer.serialize(records);
  const header = Buffer.from(parts.connector);
  // most records carry no headers of their own: they share one object instead of a copy each
  const connectorOnly = { "liberator.connector": header };
  const messages = new Array<OutgoingMessage>(records.length);
  const perTopic = new Map<string, { n: number; bytes: number }>();
  let lastTopic: string | undefined;
  let counts = { n: 0, bytes: 0 };
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const encodedRecord = encoded[i]!;
    const key = record.keySchema === null && Buffer.isBuffer(record.key) ? record.key : encodedRecord.key;
    const value = record.valueSchema === null && Buffer.isBuffer(record.value) ? record.value : encodedRecord.value;
    const headers = record.headers ? { ...record.headers, "liberator.connector": header } : connectorOnly;
    messages[i] = record.timestamp === undefined ? { topic: record.topic, key, value, headers } : { topic: record.topic, key, value, headers, timestamp: record.timestamp };
    if (record.topic !== lastTopic) {
      lastTopic = record.topic;
      counts = perTopic.get(lastTopic) ?? { n: 0, bytes: 0 };
      perTopic.set(lastTopic, counts);
    }
    counts.n++;
    counts.bytes += (key?.length ?? 0) + (value?.length ?? 0);
  }
  return {
    position: batch.position,
    records: records.length,
    messages,
    perTopic,
    sightings: parts.governance ? parts.governance.sightings(records) : [],
    prepareSeconds: (performance.now() - t0) / 1000,
  };
}

/** A later read of the same batch: its records after the batch's, its position the batch's. */
function append(batch: PreparedBatch, more: PreparedBatch): void {
  for (const m of more.messages) batch.messages.push(m);
  for (const [topic, t] of more.perTopic) {
    const counts = batch.perTopic.get(topic);
    if (counts) {
      counts.n += t.n;
      counts.bytes += t.bytes;
    } else {
      batch.perTopic.set(topic, t);
    }
  }
  batch.position = more.position;
  batch.records += more.records;
  if (more.sightings.length > 0) batch.sightings = [...batch.sightings, ...more.sightings];
  batch.prepareSeconds += more.prepareSeconds;
}

/** Key and value bytes of the batch's records. */
function bytesOf(batch: PreparedBatch): number {
  let bytes = 0;
  for (const t of batch.perTopic.values()) bytes += t.bytes;
  return bytes;
}

async function commitBatch(parts: SourcePipelineParts, batch: PreparedBatch): Promise<void> {
  const t0 = performance.now();
  // Last, so it rides in the last produce request: the shared offsets topic then holds an open
  // transaction only from that request to the commit's markers, and a process killed meanwhile
  // holds back other connectors' reads of their positions (read_committed, until the transaction
  // times out) only if it dies in that moment. A request of its own for it opens no shorter a
  // window and costs two round trips more per transaction (AddPartitionsToTxn and Produce: a p50
  // of 5-13 ms instead of 2.5 ms measured here).
  batch.messages.push(parts.offsets.message(parts.positionKey, batch.position));
  await parts.producer.commit(batch.messages);
  const seconds = (performance.now() - t0) / 1000;
  parts.metrics.observe("commit", seconds);
  parts.metrics.observe("batch", batch.prepareSeconds + seconds);
  for (const [topic, t] of batch.perTopic) parts.metrics.recordsOut(topic, t.n, t.bytes);
  await parts.governance?.committed(batch.sightings);
}
