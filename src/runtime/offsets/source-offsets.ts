import type { Kafka } from "kafkajs";
import type { Position } from "../connector.js";
import { CompactedTopicLog } from "../kafka/compacted-log.js";
import type { OutgoingMessage } from "../kafka/producer.js";
import type { Logger } from "../log.js";
import { connectorOfTask, type Generation } from "../tasks.js";

export const SOURCE_OFFSETS_TOPIC = "_liberator_offsets";

/**
 * Every batch of every source commits a position here, so the topic grows by thousands of records
 * a minute, and a worker reads all of it at start. Compaction only cleans closed segments: with
 * Kafka's defaults (1 GB, 7 days) the active segment would hold days of positions and each start
 * would read them all. Small, short-lived segments keep the read to the latest positions plus
 * about ten minutes of history.
 */
const OFFSETS_TOPIC_CONFIG = {
  "segment.bytes": String(16 * 1024 * 1024),
  "segment.ms": String(10 * 60 * 1000),
  "min.cleanable.dirty.ratio": "0.1",
};

/** What one record of `_liberator_offsets` holds, keyed by connector name. */
export interface StoredPosition {
  connector: string;
  position: Position;
  /** When the transaction that carried it was sent; for `offsets get` and lag. */
  committedAt: string;
}

/**
 * The generation (task count and split) a source that splits its work last started as, written by
 * each task before it produces (KIP-618's task count record): the next generation's tasks know
 * which transactional ids to fence. Its key, `<name>#tasks`, is no task's key and no connector's name.
 */
export interface StoredTaskCount {
  connector: string;
  tasks: number;
  /** The split's digest; absent for one task, and in records of versions before it was kept. */
  split?: string;
  committedAt: string;
}

const taskCountKey = (connector: string) => `${connector}#tasks`;

const isPosition = (v: StoredPosition | StoredTaskCount | undefined): v is StoredPosition => v !== undefined && "position" in v;

/**
 * Source positions on the compacted topic `_liberator_offsets`. Writes never happen here: a
 * position only travels inside the connector's own Kafka transaction, with its records
 * (`message()`), so it is committed exactly when they are (DESIGN.md §5).
 */
export class SourceOffsetStore {
  private constructor(private readonly table: CompactedTopicLog<StoredPosition | StoredTaskCount>) {}

  static async open(kafka: Kafka, log: Logger, replicationFactor = -1): Promise<SourceOffsetStore> {
    const table = new CompactedTopicLog<StoredPosition | StoredTaskCount>({
      kafka,
      topic: SOURCE_OFFSETS_TOPIC,
      log,
      partitions: 1,
      replicationFactor,
      topicConfig: OFFSETS_TOPIC_CONFIG,
      decode: (value) => JSON.parse(value.toString("utf8")) as StoredPosition | StoredTaskCount,
    });
    await table.start();
    return new SourceOffsetStore(table);
  }

  message(connector: string, position: Position): OutgoingMessage {
    const stored: StoredPosition = { connector, position, committedAt: new Date().toISOString() };
    return { topic: SOURCE_OFFSETS_TOPIC, key: Buffer.from(connector), value: Buffer.from(JSON.stringify(stored)) };
  }

  taskCountMessage(connector: string, generation: Generation): OutgoingMessage {
    const stored: StoredTaskCount = { connector, tasks: generation.count, ...(generation.split === undefined ? {} : { split: generation.split }), committedAt: new Date().toISOString() };
    return { topic: SOURCE_OFFSETS_TOPIC, key: Buffer.from(taskCountKey(connector)), value: Buffer.from(JSON.stringify(stored)) };
  }

  /** The newest committed position. Call after the connector's producer has fenced older instances. */
  async read(connector: string): Promise<StoredPosition | null> {
    await this.table.readToEnd();
    const stored = this.table.get(connector);
    return isPosition(stored) ? stored : null;
  }

  /** The generation the connector's tasks last started as; undefined if none recorded one. */
  async generation(connector: string): Promise<Generation | undefined> {
    await this.table.readToEnd();
    const stored = this.table.get(taskCountKey(connector));
    if (!stored || isPosition(stored)) return undefined;
    return stored.split === undefined ? { count: stored.tasks } : { count: stored.tasks, split: stored.split };
  }

  /**
   * The newest positions of every task the connector has run as (`<name>`, `<name>#<i>/<N>.<split>`, whatever
   * its task count was), oldest write first: the topic has one partition, so this is commit order.
   */
  async readTasks(connector: string): Promise<Array<StoredPosition & { key: string }>> {
    await this.table.readToEnd();
    return [...this.table.entries()].flatMap(([key, stored]) => (connectorOfTask(key) === connector && isPosition(stored) ? [{ ...stored, key }] : []));
  }

  async close(): Promise<void> {
    await this.table.stop();
  }
}
