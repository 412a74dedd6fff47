/**
 * Stream governance for one source connector, applied by the source pipeline to every batch
 * before serialization, whatever the source: schemas get the stream's metadata and PII handling,
 * values get their PII fields replaced, dead letters are scrubbed, and streams that are new to
 * this process (or changed schema) are reported to the catalog after their batch commits.
 *
 * Decorated schemas are cached by the identity of the source's schema object, so a steady stream
 * hands the serializer the same decorated object every time (its caches work by identity too).
 */
import type { AvroSchema, ChangeRecord, SchemaGate } from "../connector.js";
import type { Logger } from "../log.js";
import { ORIGINAL_TOPIC_HEADER, protectsPii, scrubDeadLetter } from "./dead-letters.js";
import { decorateKeySchema, decorateValueSchema, replaceValue, type DecoratedSchema } from "./decorate.js";
import { isBare, type StreamDeclarations, type StreamMetadata } from "./metadata.js";

/** A stream as a committed batch showed it, for the catalog. */
export interface StreamObservation {
  topic: string;
  connector: string;
  connectorType: string;
  keySchema: AvroSchema | null;
  valueSchema: AvroSchema;
  valueSubject: string;
  /** A value of the stream (its envelope names the source table). */
  value: unknown;
  decorated: DecoratedSchema;
  meta: StreamMetadata;
}

export interface SourceGovernanceDeps {
  declarations: StreamDeclarations;
  log: Logger;
  /** Called, awaited, for each stream new to this process or with a new schema; never throws. */
  observe(observation: StreamObservation): Promise<void>;
}

/** The decorations of one topic's schemas, cached by source schema object. */
class TopicShapes {
  readonly bare: boolean;
  private readonly byObject = new WeakMap<object, DecoratedSchema>();
  private readonly byName = new Map<string, DecoratedSchema>();
  private readonly last: Record<"key" | "value", { schema: AvroSchema; decorated: DecoratedSchema } | undefined> = { key: undefined, value: undefined };
  /** Decorated value schema → its decoration, for the catalog (records carry decorated schemas). */
  private readonly ofDecorated = new WeakMap<object, DecoratedSchema>();
  /** Key/value schema pairs and subjects reported to the catalog: a few per topic (versions, event types). */
  private readonly observed: { key: AvroSchema | null; value: AvroSchema; subject: string }[] = [];
  warnedMissing = false;

  constructor(
    readonly topic: string,
    readonly meta: StreamMetadata,
    private readonly hashKey: string | undefined,
  ) {
    this.bare = isBare(meta);
  }

  key(schema: AvroSchema): DecoratedSchema {
    return this.decorate("key", schema);
  }

  value(schema: AvroSchema): DecoratedSchema {
    return this.ofDecorated.get(schema as object) ?? this.decorate("value", schema);
  }

  private decorate(role: "key" | "value", schema: AvroSchema): DecoratedSchema {
    const last = this.last[role];
    if (last && last.schema === schema) return last.decorated;
    const cache = typeof schema === "string" ? undefined : this.byObject;
    let decorated = typeof schema === "string" ? this.byName.get(`${role}:${schema}`) : cache!.get(schema);
    if (!decorated) {
      const options = { topic: this.topic, hashKey: this.hashKey };
      decorated = role === "key" ? decorateKeySchema(schema, this.meta, options) : decorateValueSchema(schema, this.meta, options);
      if (typeof schema === "string") this.byName.set(`${role}:${schema}`, decorated);
      else cache!.set(schema, decorated);
      if (role === "value" && typeof decorated.schema !== "string") this.ofDecorated.set(decorated.schema, decorated);
    }
    this.last[role] = { schema, decorated };
    return decorated;
  }

  seen(key: AvroSchema | null, value: AvroSchema, subject: string): boolean {
    return this.observed.some((o) => o.key === key && o.value === value && o.subject === subject);
  }

  /** True the first time this key/value schema pair and subject are seen. */
  firstSight(key: AvroSchema | null, value: AvroSchema, subject: string): boolean {
    if (this.seen(key, value, subject)) return false;
    this.observed.push({ key, value, subject });
    return true;
  }
}

export class SourceGovernance {
  private readonly topics = new Map<string, TopicShapes>();

  constructor(
    private readonly connector: { name: string; type: string },
    private readonly deps: SourceGovernanceDeps,
  ) {}

  /** The batch as it is published: decorated schemas, PII replaced. The same array when nothing changes. */
  prepare(records: readonly ChangeRecord[]): readonly ChangeRecord[] {
    let out: ChangeRecord[] | undefined;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const next = this.record(record);
      if (out) out.push(next);
      else if (next !== record) {
        out = records.slice(0, i);
        out.push(next);
      }
    }
    return out ?? records;
  }

  /** The source's schema gate, checking what will be published: the decorated schema. */
  gate(inner: SchemaGate): SchemaGate {
    const gate: SchemaGate = { check: (subject, schema) => inner.check(subject, this.forSubject(subject, schema)) };
    if (inner.registered) gate.registered = inner.registered.bind(inner);
    return gate;
  }

  /**
   * The records of a prepared batch that show a stream new to this process (or a new schema), one
   * per stream and schema: all `committed()` needs once the batch commits, so the batch itself need
   * not be kept until then.
   */
  sightings(records: readonly ChangeRecord[]): ChangeRecord[] {
    const out: ChangeRecord[] = [];
    let last: ChangeRecord | undefined;
    for (const r of records) {
      if (r.valueSchema === null || r.value === null || r.value === undefined) continue;
      // a batch is mostly one stream: the same as the record before needs no lookup
      if (last && r.topic === last.topic && r.keySchema === last.keySchema && r.valueSchema === last.valueSchema && r.valueSubject === last.valueSubject) continue;
      last = r;
      const subject = r.valueSubject ?? `${r.topic}-value`;
      const same = (o: ChangeRecord) => o.topic === r.topic && o.keySchema === r.keySchema && o.valueSchema === r.valueSchema && (o.valueSubject ?? `${o.topic}-value`) === subject;
      if (!this.shapes(r.topic).seen(r.keySchema, r.valueSchema, subject) && !out.some(same)) out.push(r);
    }
    return out;
  }

  /** Reports the streams of a committed batch that are new to this process, or changed schema. */
  async committed(records: readonly ChangeRecord[]): Promise<void> {
    for (const r of records) {
      if (r.valueSchema === null || r.value === null || r.value === undefined) continue;
      const shapes = this.shapes(r.topic);
      const subject = r.valueSubject ?? `${r.topic}-value`;
      if (!shapes.firstSight(r.keySchema, r.valueSchema, subject)) continue;
      const decorated = shapes.value(r.valueSchema);
      await this.deps.observe({
        topic: r.topic,
        connector: this.connector.name,
        connectorType: this.connector.type,
        keySchema: r.keySchema,
        valueSchema: r.valueSchema,
        valueSubject: subject,
        value: r.value,
        decorated,
        meta: shapes.meta,
      });
    }
  }

  private record(r: ChangeRecord): ChangeRecord {
    if (r.keySchema === null && r.valueSchema === null) return this.deadLetter(r);
    const shapes = this.shapes(r.topic);
    if (shapes.bare) return r;
    const key = r.keySchema === null ? undefined : shapes.key(r.keySchema);
    const value = r.valueSchema === null ? undefined : shapes.value(r.valueSchema);
    if (value && value.missing.length > 0 && !shapes.warnedMissing) {
      shapes.warnedMissing = true;
      this.deps.log.warn({ topic: r.topic, fields: value.missing }, `streams: stream "${r.topic}" has no field ${value.missing.join(", ")} that its declarations name (pii, financial): check the spelling`);
    }
    return {
      ...r,
      key: key ? replaceValue(r.key, key) : r.key,
      keySchema: key ? key.schema : r.keySchema,
      value: value ? replaceValue(r.value, value) : r.value,
      valueSchema: value ? value.schema : r.valueSchema,
    };
  }

  private deadLetter(r: ChangeRecord): ChangeRecord {
    const header = r.headers?.[ORIGINAL_TOPIC_HEADER];
    const topic = header === undefined ? undefined : Buffer.isBuffer(header) ? header.toString("utf8") : header;
    if (!topic) return r;
    const meta = this.shapes(topic).meta;
    return protectsPii(meta) ? scrubDeadLetter(r, topic, meta, this.deps.declarations.hashKey) : r;
  }

  private forSubject(subject: string, schema: AvroSchema): AvroSchema {
    const m = /^(.+)-(key|value)$/.exec(subject);
    if (!m) return schema;
    const shapes = this.shapes(m[1]!);
    if (shapes.bare) return schema;
    return (m[2] === "key" ? shapes.key(schema) : shapes.value(schema)).schema;
  }

  private shapes(topic: string): TopicShapes {
    let shapes = this.topics.get(topic);
    if (!shapes) {
      shapes = new TopicShapes(topic, this.deps.declarations.resolve(topic, this.connector.name), this.deps.declarations.hashKey);
      this.topics.set(topic, shapes);
    }
    return shapes;
  }
}
