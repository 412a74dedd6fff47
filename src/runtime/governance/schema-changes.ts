/**
 * Schema-change notices: each version of a subject a Liberator stream uses gets exactly one notice
 * in `_liberator_schema_changes` (subject, old and new version, fields added, removed and changed,
 * the compatibility level it passed), published before any record with that version, and logged
 * once by the worker that publishes it.
 *
 * Exactly one, with several workers and crashes:
 * - The notice's key is `<subject>/<version>`, and the topic (compacted, one partition) is tailed
 *   by every worker: it is the record of what was noticed.
 * - Notices are written in Kafka transactions of ONE transactional id shared by all workers. A
 *   worker reads the topic to its end after its producer started (which fences every earlier
 *   producer of that id), and writes only what it did not find. Any other worker that wrote
 *   since must have started its producer later and fenced this one, so this one's commit fails
 *   and it reads again: two workers racing on a version publish it once.
 * - A worker that crashes after registering a version, before its notice, leaves the version
 *   unnoticed; the next process to use that version (the connector's restart, on any worker)
 *   finds it registered and publishes the notice then (SchemaCatalog tells of schemas found
 *   registered as well as registered).
 */
import type { Kafka } from "kafkajs";
import { FencedError } from "../errors.js";
import { CompactedTopicLog } from "../kafka/compacted-log.js";
import { TransactionalProducer } from "../kafka/producer.js";
import type { Logger } from "../log.js";
import { parseSchema } from "../avro/canonical.js";
import type { SubjectSchemaEvent } from "../schema-registry/catalog.js";
import type { SchemaRegistry } from "../schema-registry/registry-api.js";
import type { CompatibilityLevel } from "../avro/compatibility.js";
import { describeDiff, diffSchemas, type ChangedField, type FieldChange } from "./schema-diff.js";

export interface SchemaChangeNotice {
  subject: string;
  /** The topic of a TopicNameStrategy subject (`<topic>-key`, `<topic>-value`); null otherwise. */
  topic: string | null;
  oldVersion: number | null;
  newVersion: number;
  oldId: number | null;
  newId: number;
  /** The level the new version was checked against. */
  compatibility: CompatibilityLevel;
  added: FieldChange[];
  removed: FieldChange[];
  changed: ChangedField[];
  noticedAt: string;
  worker: string;
}

export interface SchemaChangeNotifierOptions {
  kafka: Kafka;
  topic: string;
  log: Logger;
  registry: SchemaRegistry;
  worker: string;
  replicationFactor?: number;
  transactionTimeoutMs: number;
}

/** Attempts when other workers keep fencing this one while it publishes. */
const ATTEMPTS = 10;

export const noticeKey = (subject: string, version: number) => `${subject}/${version}`;

export function decodeNotice(value: Buffer): SchemaChangeNotice {
  const notice = JSON.parse(value.toString("utf8")) as SchemaChangeNotice;
  if (typeof notice.subject !== "string" || !Number.isInteger(notice.newVersion)) throw new Error("not a schema-change notice");
  return notice;
}

export class SchemaChangeNotifier {
  private producer: TransactionalProducer | undefined;
  /** One notice at a time per process: the transactional producer is shared. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly notices: CompactedTopicLog<SchemaChangeNotice>,
    private readonly options: SchemaChangeNotifierOptions,
  ) {}

  static async open(options: SchemaChangeNotifierOptions): Promise<SchemaChangeNotifier> {
    const log = new CompactedTopicLog<SchemaChangeNotice>({
      kafka: options.kafka,
      topic: options.topic,
      log: options.log,
      partitions: 1,
      replicationFactor: options.replicationFactor ?? -1,
      decode: decodeNotice,
    });
    await log.start();
    return new SchemaChangeNotifier(log, options);
  }

  /** The transactional id every worker shares for this topic. */
  static transactionalId(topic: string): string {
    return `liberator-${topic}`;
  }

  /** SchemaCatalog's listener. Never throws: a notice that cannot be published now is published on the version's next use. */
  readonly onSubjectSchema = (event: SubjectSchemaEvent): Promise<void> => {
    const run = this.queue.then(() => this.notice(event));
    this.queue = run.catch(() => undefined);
    return run.catch((err: unknown) => {
      this.options.log.warn({ err, subject: event.subject, id: event.id }, `could not publish the schema-change notice of subject "${event.subject}"; it is published when a worker next uses that version`);
    });
  };

  async close(): Promise<void> {
    await this.producer?.disconnect();
    this.producer = undefined;
    await this.notices.stop();
  }

  private async notice(event: SubjectSchemaEvent): Promise<void> {
    const { registry } = this.options;
    const found = await registry.lookup(event.subject, event.schema.text);
    if (!found) return;
    await this.notices.readToEnd();
    if (this.notices.get(noticeKey(event.subject, found.version))) return;
    const previous = found.version > 1 ? await registry.version(event.subject, found.version - 1) : null;
    const diff = diffSchemas(previous ? parseSchema(previous.schema).schema : null, event.schema.schema);
    const suffix = /^(.+)-(key|value)$/.exec(event.subject);
    const notice: SchemaChangeNotice = {
      subject: event.subject,
      topic: suffix ? suffix[1]! : null,
      oldVersion: previous?.version ?? null,
      newVersion: found.version,
      oldId: previous?.id ?? null,
      newId: found.id,
      compatibility: event.level,
      ...diff,
      noticedAt: new Date().toISOString(),
      worker: this.options.worker,
    };
    if (await this.publish(notice)) {
      const from = notice.oldVersion === null ? "new subject" : `v${notice.oldVersion} → v${notice.newVersion}`;
      this.options.log.info(
        { subject: notice.subject, oldVersion: notice.oldVersion, newVersion: notice.newVersion, added: diff.added, removed: diff.removed, changed: diff.changed, compatibility: notice.compatibility },
        `schema change: ${notice.subject} ${from} (${notice.compatibility}): ${describeDiff(diff)}`,
      );
    }
  }

  /** True when this call published it; false when another worker had. */
  private async publish(notice: SchemaChangeNotice): Promise<boolean> {
    const key = noticeKey(notice.subject, notice.newVersion);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const producer = await this.connected();
      // after the producer started: anything another worker wrote before is readable now
      await this.notices.readToEnd();
      if (this.notices.get(key)) return false;
      try {
        await producer.commit([{ topic: this.options.topic, key: Buffer.from(key), value: Buffer.from(JSON.stringify(notice)) }]);
        return true;
      } catch (err) {
        if (!(err instanceof FencedError)) throw err;
        // another worker published in between; start again and look
        await producer.disconnect();
        this.producer = undefined;
      }
    }
    throw new FencedError(`other workers kept publishing schema-change notices while this one tried to publish ${key}`);
  }

  private async connected(): Promise<TransactionalProducer> {
    if (this.producer) return this.producer;
    const { kafka, topic, transactionTimeoutMs } = this.options;
    const producer = new TransactionalProducer(kafka, { transactionalId: SchemaChangeNotifier.transactionalId(topic), connector: "schema-changes", transactionTimeoutMs });
    await producer.connect();
    this.producer = producer;
    return producer;
  }
}
