/**
 * The only types a connector implements or receives. The runtime knows connectors through these
 * and through `registry.ts`, nothing else (Conduit's connector contract, DESIGN.md §1, §5).
 */
import type { Schema } from "avsc";
import type { Logger } from "./log.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Where a source is. Opaque to the runtime: it is stored in `_liberator_offsets` inside the same
 * Kafka transaction as the records before it and handed back unchanged on the next start. Only the
 * connector that wrote it parses it (binlog: file, pos, gtid, phase…; query: ts/id per table).
 */
export type Position = Json;

/** An Avro schema as JSON. Reuse one object per schema version: the serializer caches by identity. */
export type AvroSchema = Exclude<Schema, { toBuffer: unknown }>;

/** Debezium's operation codes: create, update, delete, read (snapshot), truncate. */
export type Op = "c" | "u" | "d" | "r" | "t";

export type Headers = Record<string, string | Buffer>;

/**
 * One record bound for Kafka. `value: null` is a tombstone. A Buffer key or value with a null schema
 * is written as it is: a source's dead letters (an outbox row whose payload fails its schema) go
 * to the dead-letter topic in the same transaction as the batch around them.
 */
export interface ChangeRecord {
  topic: string;
  /** Matches `keySchema`; null when the stream has no key. */
  key: unknown;
  keySchema: AvroSchema | null;
  /** Matches `valueSchema` (usually the envelope of DESIGN.md §3); null is a tombstone. */
  value: unknown;
  valueSchema: AvroSchema | null;
  /**
   * The registry subject of the value's schema; `<topic>-value` (TopicNameStrategy) when unset.
   * The outbox sets `<topic>-<record name>` (TopicRecordNameStrategy): one aggregate's topic
   * carries several event types, and each must evolve under its own compatibility rule.
   */
  valueSubject?: string;
  headers?: Headers;
  /** Event time in ms since the epoch; becomes the Kafka record timestamp. */
  timestamp?: number;
}

export interface SourceBatch {
  /** May be empty: an idle source still reports a moved position (heartbeat). */
  records: ChangeRecord[];
  /** The position after the last record, committed in the same Kafka transaction as the records. */
  position: Position;
}

/** What a connector can report about itself to the admin API and metrics. */
export type ConnectorStatus = Record<string, Json>;

export interface ReadOptions {
  /**
   * Settles when the batch read before this one is committed (or has failed). This batch cannot
   * start its commit before then, so a source that has records but nothing more queued may keep
   * taking what arrives until it settles: a row arriving meanwhile then rides in this batch
   * rather than waiting for the next commit. Sources that read in large chunks ignore it.
   */
  previousCommitted?: Promise<void>;
}

/**
 * A source, driven by the runtime:
 *   open(position) → read() → [records + position committed in one Kafka transaction] → ack(position) → … → close()
 * `read()` may be called again before the previous batch is acked (the runtime prefetches one batch);
 * `ack()` calls arrive in order.
 */
export interface Source {
  /** `position` is the last committed one, or null on the very first start. */
  open(position: Position | null): Promise<void>;
  /**
   * The next batch, ending on a source transaction boundary. Resolves with an empty batch when idle
   * for a while, and promptly after the context's signal aborts. Null means the source has nothing
   * more, ever (a finite snapshot, a bounded generator).
   */
  read(options?: ReadOptions): Promise<SourceBatch | null>;
  /** The batch that ended at `position` is committed in Kafka; e.g. the outbox deletes its rows now. */
  ack(position: Position): Promise<void>;
  /** Release everything. Safe to call twice and after a failed open. */
  close(): Promise<void>;
  /**
   * The topics of every stream it captures, asked once after open(): they are created then, so a
   * sink over a table that has not changed yet finds its topic. Sources whose topics follow their
   * data (the outbox routes by a column) leave it out; their topics appear with their first record.
   */
  topics?(): Promise<string[]>;
  status?(): ConnectorStatus;
  /** Operator commands that are the source's business (e.g. `snapshot` of one table). */
  command?(name: string, args: Record<string, Json>): Promise<Json>;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The offset of the next record to read, as Kafka's string offsets. */
  offset: string;
}

/** One record from Kafka, decoded. `value: null` is a tombstone. */
export interface SinkRecord {
  topic: string;
  partition: number;
  offset: string;
  key: unknown;
  keySchema: AvroSchema | null;
  value: unknown;
  valueSchema: AvroSchema | null;
  headers: Headers;
  timestamp: number;
}

export interface SinkBatch {
  records: SinkRecord[];
  /** Next offsets per partition after this batch; the sink stores them in the same transaction as the rows. */
  offsets: TopicPartitionOffset[];
}

/** A topic a sink reads, with the latest schema registered for its values (TopicNameStrategy). */
export interface TopicSchema {
  topic: string;
  valueSchema: AvroSchema;
}

/**
 * The part of a writer's schema a reader takes, as a reader schema of the same names (undefined: all
 * of it). What it leaves out is skipped while decoding, never built.
 */
export type SchemaView = (writer: AvroSchema) => AvroSchema | undefined;

/**
 * A sink: open() → claim(partitions) → write(batch)… → close(). It is fenced per partition: a task
 * writes only the partitions it claimed, and a claim by another task (or instance) of the same
 * partition makes its next write of it fail with FencedError naming the partition (`partitions`),
 * while it goes on writing the others. `write` is all or nothing: rows and offsets in one target
 * transaction, or neither.
 */
export interface Sink {
  /** Connects; claims nothing. */
  open(): Promise<void>;
  /** The next offsets stored in the target, read only (status, `liberator offsets`). */
  offsets(topics: readonly string[]): Promise<TopicPartitionOffset[]>;
  /**
   * Claims these partitions for this task, at once and durably (a new epoch per partition), and
   * returns their stored next offsets read after the claim: the consumer seeks there. Called on
   * every assignment with exactly the partitions assigned.
   */
  claim(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]>;
  /** This task no longer writes these partitions (a rebalance took them): a write to one fails with FencedError. */
  release(partitions: readonly TopicPartition[]): void;
  /**
   * Before reading (at start, and when topics are added): the schema each topic's records have now,
   * so that a target that cannot take them is named before the first write rather than at the first
   * record that does not fit. Records of a newer schema version are the sink's to check when they come.
   */
  check?(topics: readonly TopicSchema[]): Promise<void>;
  write(batch: SinkBatch): Promise<void>;
  /**
   * What the sink reads of each record's value: the pipeline decodes values through it (the record's
   * `valueSchema` stays the writer's). A stable function: its readers are kept per schema id.
   */
  readonly valueView?: SchemaView;
  /**
   * Release everything at once; safe to call twice, and while `open` or `write` is in flight. A write
   * in flight is abandoned, never waited for (a stop must not wait out a batch): all or nothing
   * still holds, and what it had not committed is written again from the stored offsets.
   */
  close(): Promise<void>;
  status?(): ConnectorStatus;
}

/** What a snapshot reports of a table besides its counts. */
export interface SnapshotDetail {
  /** `initial` by default. */
  kind?: "initial" | "incremental";
  /** Where it stands: the last key read. */
  chunk?: Json;
  /** The table is copied: `done` is its row count. */
  finished?: boolean;
}

/** What a streaming source knows of its distance from the server's head. */
export interface StreamDetail {
  /** Bytes of the server's log not read yet (or, for a replication slot, not confirmed yet). */
  bytesBehind?: number;
  /** Bytes of log the server keeps for this connector (a replication slot's retained WAL). */
  retainedBytes?: number;
  /** When the last change read was made, in ms since the epoch. */
  lastEventAt?: number;
}

/** Per-connector metrics, so connectors never touch prom-client directly. */
export interface ConnectorMetrics {
  recordsOut(table: string, n: number, bytes?: number): void;
  recordsIn(table: string, n: number, bytes?: number): void;
  /**
   * Seconds behind the source (binlog event time, newest polled row…); `detail` from a source that
   * follows a log. Null seconds: not known at this moment, only the detail is news.
   */
  lagSeconds(seconds: number | null, detail?: StreamDetail): void;
  /** `estimated` from the database's statistics, refined as the source learns more; never below `done`. */
  snapshotProgress(table: string, done: number, estimated: number, detail?: SnapshotDetail): void;
  observe(name: "poll" | "batch" | "commit", seconds: number): void;
}

/** Checks a schema change against the subject's rule before any record with it is produced. */
export interface SchemaGate {
  /** Throws SchemaIncompatibleError naming the subject, field and rule. */
  check(subject: string, schema: AvroSchema): Promise<void>;
  /**
   * A schema registered under `subject` (its latest version by default), for sources that take
   * their schemas from the registry (outbox event types). SCHEMA_SUBJECT_NOT_FOUND or
   * SCHEMA_VERSION_NOT_FOUND when there is none. Optional: test contexts may leave it out.
   */
  registered?(subject: string, version?: number | "latest"): Promise<AvroSchema>;
}

/**
 * Which of a connector's task instances this one is (`tasks: N | auto` in its config): `index`
 * from 0 to `count - 1`. The tasks of one connector run side by side, in one process or spread
 * over the workers of a cluster; a connector with `tasks: 1` (the default) is task 0 of 1.
 */
export interface TaskRef {
  readonly index: number;
  readonly count: number;
}

interface ConnectorContextBase {
  readonly connector: string;
  /** The task this instance is: a source that splits its work (tables) takes its share by it. */
  readonly task: TaskRef;
  readonly log: Logger;
  /** Aborted when the connector must stop; long waits must end soon after. */
  readonly signal: AbortSignal;
  readonly metrics: ConnectorMetrics;
}

export interface SourceContext extends ConnectorContextBase {
  readonly schemas: SchemaGate;
  /** Soft caps a source should respect when it can split a batch without breaking a transaction. */
  readonly limits: { maxBatchRecords: number; maxBatchBytes: number };
}

export type SinkContext = ConnectorContextBase;
