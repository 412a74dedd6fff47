import type { ConnectorMetrics, Position, Source, SourceBatch } from "../connector.js";
import type { LiveConnector } from "../connector-runner.js";
import type { SourceGovernance } from "../governance/source-governance.js";
import type { OutgoingMessage, TransactionalProducer } from "../kafka/producer.js";
import type { Logger } from "../log.js";
import type { SourceOffsetStore } from "../offsets/source-offsets.js";
import type { RecordSerializer } from "../schema/serde.js";

export interface SourcePipelineParts {
  connector: string;
  source: Source;
  producer: TransactionalProducer;
  offsets: SourceOffsetStore;
  serializer: RecordSerializer;
  /** Stream metadata and PII handling applied to every record before serialization; the catalog told of new streams. */
  governance?: SourceGovernance;
  /** Creates output topics the first time a batch writes to them. */
  ensureTopics(topics: string[]): Promise<void>;
  log: Logger;
  metrics: ConnectorMetrics;
  /** Aborted on stop: the batch in flight is committed, nothing new is read. */
  signal: AbortSignal;
  /** Resolves when the connector is not paused. */
  whenResumed(): Promise<void>;
  onOpened(position: Position | null, live?: LiveConnector): void;
  onCommitted(position: Position, records: number): void;
}

export type PipelineEnd = "stopped" | "finished";

/**
 * Source → Kafka, exactly once (DESIGN.md §5):
 *   1. the transactional producer starts, fencing older instances and aborting their open transaction;
 *   2. the last committed position is read (read_committed) and handed to the source;
 *   3. each batch of records and the position after it are sent in ONE transaction; only then is
 *      the source told (ack), e.g. so the outbox may delete what it published.
 * One batch is read ahead while the previous one commits, so the source and Kafka work in parallel;
 * memory stays bounded by two batches.
 */
export async function runSourcePipeline(parts: SourcePipelineParts): Promise<PipelineEnd> {
  const { source, producer, offsets, connector, signal } = parts;
  await producer.connect();
  const stored = await offsets.read(connector);
  const start = stored?.position ?? null;
  parts.log.info({ position: start, committedAt: stored?.committedAt }, stored ? "resuming from the committed position" : "no committed position: starting fresh");
  await source.open(start);
  parts.onOpened(start, source);

  let lastPosition = JSON.stringify(start);
  const knownTopics = new Set<string>();
  const read = (): Promise<SourceBatch | null> => {
    const t0 = performance.now();
    return source.read().then((batch) => {
      // an idle source waits inside read(): timing its empty batches would measure the idleness
      if (batch && batch.records.length > 0) parts.metrics.observe("poll", (performance.now() - t0) / 1000);
      return batch;
    });
  };
  let next: Promise<SourceBatch | null> | undefined = read();
  try {
    while (next) {
      const batch = await next;
      next = undefined;
      if (batch === null) return "finished";
      const stopping = signal.aborted;
      if (!stopping) {
        await parts.whenResumed();
        if (!signal.aborted) next = read();
      }
      const position = JSON.stringify(batch.position);
      if (batch.records.length > 0 || position !== lastPosition) {
        await commitBatch(parts, batch, knownTopics);
        lastPosition = position;
        parts.onCommitted(batch.position, batch.records.length);
      }
      await source.ack(batch.position);
    }
    return "stopped";
  } finally {
    // a read started ahead must not surface as an unhandled rejection once we are leaving
    next?.catch(() => undefined);
  }
}

async function commitBatch(parts: SourcePipelineParts, batch: SourceBatch, knownTopics: Set<string>): Promise<void> {
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
  const messages = new Array<OutgoingMessage>(records.length + 1);
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
  // last: the shared offsets topic joins the transaction only in its final request, so a process
  // killed mid-transaction holds back other connectors' reads of their positions for less time
  messages[records.length] = parts.offsets.message(parts.connector, batch.position);
  const t1 = performance.now();
  await parts.producer.commit(messages);
  const t2 = performance.now();
  parts.metrics.observe("commit", (t2 - t1) / 1000);
  parts.metrics.observe("batch", (t2 - t0) / 1000);
  for (const [topic, t] of perTopic) parts.metrics.recordsOut(topic, t.n, t.bytes);
  await parts.governance?.committed(records);
}
