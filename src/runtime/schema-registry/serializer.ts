import type { Type } from "avsc";
import type { AvroSchema, ChangeRecord } from "../connector.js";
import { DataError, ErrorCode } from "../errors.js";
import type { ParsedSchema } from "../avro/canonical.js";
import type { SchemaCatalog } from "./catalog.js";
import { describeType } from "../avro/logical-types.js";
import type { EncodedRecord, RecordSerializer } from "./serde.js";
import { preview } from "../avro/values.js";
import { HEADER_SIZE, writeHeader } from "./wire-format.js";

/** One schema object's compiled type and its ids, by topic, as a key and as a value. */
interface Writer {
  parsed: ParsedSchema;
  type: Type;
  ids: { key: Map<string, number>; value: Map<string, number> };
  /** Ids of values whose record names its subject (ChangeRecord.valueSubject), by subject. */
  subjects: Map<string, number>;
}

type Role = "key" | "value";

const INITIAL_SCRATCH = 64 * 1024;
/** A scratch buffer grown past this by an unusual batch goes back to its initial size. */
const MAX_KEPT_SCRATCH = 16 * 1024 * 1024;

/**
 * Avro in the Confluent wire format. Per record, on a steady stream: two identity lookups (schema
 * object → compiled type, topic → id), the 5-byte header and avsc's encoder writing straight into
 * one scratch buffer; per batch, one allocation and one copy, each record a slice of it. No
 * hashing, JSON or registry call happens until a schema object or a topic is new.
 */
export class AvroSerializer implements RecordSerializer {
  private scratch = Buffer.allocUnsafe(INITIAL_SCRATCH);
  private readonly writers = new WeakMap<object, Writer>();
  private readonly named = new Map<string, Writer>();
  // batches are usually one table: the last key and value schema skip even the WeakMap
  private last: Record<Role, { schema: AvroSchema | undefined; writer: Writer | undefined }> = {
    key: { schema: undefined, writer: undefined },
    value: { schema: undefined, writer: undefined },
  };

  constructor(private readonly catalog: SchemaCatalog) {}

  async serialize(records: readonly ChangeRecord[]): Promise<EncodedRecord[]> {
    for (;;) {
      // encoding is synchronous, so concurrent calls never share the scratch buffer mid-batch
      const encoded = this.encode(records);
      if (encoded) return encoded;
      await this.registerMissing(records);
    }
  }

  /** The batch framed and encoded, or undefined when a subject still needs its id. */
  private encode(records: readonly ChangeRecord[]): EncodedRecord[] | undefined {
    const bounds = new Int32Array(records.length * 4);
    let pos = 0;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      pos = this.frame(r.topic, "key", r.key, r.keySchema, bounds, i * 4, pos);
      if (pos >= 0) pos = this.frame(r.topic, "value", r.value, r.valueSchema, bounds, i * 4 + 2, pos, r.valueSubject);
      if (pos < 0) return undefined;
    }
    const block = Buffer.allocUnsafe(pos);
    this.scratch.copy(block, 0, 0, pos);
    if (this.scratch.length > MAX_KEPT_SCRATCH) this.scratch = Buffer.allocUnsafe(INITIAL_SCRATCH);
    const out = new Array<EncodedRecord>(records.length);
    for (let i = 0; i < records.length; i++) {
      const k = bounds[i * 4]!;
      const v = bounds[i * 4 + 2]!;
      out[i] = {
        key: k < 0 ? null : block.subarray(k, bounds[i * 4 + 1]),
        value: v < 0 ? null : block.subarray(v, bounds[i * 4 + 3]),
      };
    }
    return out;
  }

  /** Frames one key or value at `pos` and notes its bounds; -1 when its subject has no id yet. */
  private frame(topic: string, role: Role, value: unknown, schema: AvroSchema | null, bounds: Int32Array, slot: number, pos: number, subject?: string): number {
    if (value === null || value === undefined || !schema) {
      bounds[slot] = -1;
      return pos;
    }
    const writer = this.writer(role, schema);
    const id = subject === undefined ? writer.ids[role].get(topic) : writer.subjects.get(subject);
    if (id === undefined) return -1;
    bounds[slot] = pos;
    const end = this.put(writer, id, value, pos, topic, role);
    bounds[slot + 1] = end;
    return end;
  }

  /** Header and body at `pos` in the scratch buffer, growing it when avsc runs out of room. */
  private put(writer: Writer, id: number, value: unknown, pos: number, topic: string, role: Role): number {
    for (;;) {
      const buf = this.scratch;
      let missing = HEADER_SIZE;
      if (pos + HEADER_SIZE < buf.length) {
        writeHeader(buf, pos, id);
        let end: number;
        try {
          end = writer.type.encode(value, buf, pos + HEADER_SIZE);
        } catch (err) {
          throw invalidRecord(writer.type, value, topic, role, err);
        }
        if (end > 0) return end;
        missing = -end + HEADER_SIZE;
      }
      const grown = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + missing + 1024));
      buf.copy(grown, 0, 0, pos);
      this.scratch = grown;
    }
  }

  private writer(role: Role, schema: AvroSchema): Writer {
    const last = this.last[role];
    if (last.schema === schema) return last.writer!;
    let writer = typeof schema === "string" ? this.named.get(schema) : this.writers.get(schema);
    if (!writer) {
      const parsed = this.catalog.parsed(schema);
      writer = { parsed, type: parsed.type, ids: { key: new Map(), value: new Map() }, subjects: new Map() };
      if (typeof schema === "string") this.named.set(schema, writer);
      else this.writers.set(schema, writer);
    }
    last.schema = schema;
    last.writer = writer;
    return writer;
  }

  /** Registers (after the compatibility check) every subject of the batch that has no id yet. */
  private async registerMissing(records: readonly ChangeRecord[]): Promise<void> {
    const pending = new Map<string, Promise<unknown>>();
    const need = (topic: string, role: Role, value: unknown, schema: AvroSchema | null, named?: string) => {
      if (value === null || value === undefined || !schema) return;
      const writer = this.writer(role, schema);
      const [ids, slot] = named === undefined ? [writer.ids[role], topic] : [writer.subjects, named];
      const subject = named ?? `${topic}-${role}`;
      const key = `${subject}\u0000${writer.parsed.canonical}`;
      if (ids.has(slot) || pending.has(key)) return;
      pending.set(key, Promise.resolve(this.catalog.idFor(subject, writer.parsed)).then((id) => ids.set(slot, id)));
    };
    for (const r of records) {
      need(r.topic, "key", r.key, r.keySchema);
      need(r.topic, "value", r.value, r.valueSchema, r.valueSubject);
    }
    await Promise.all(pending.values());
  }
}

/** Names the topic, the field path and the value that does not fit, instead of avsc's bare "invalid". */
function invalidRecord(type: Type, value: unknown, topic: string, role: Role, cause: unknown): DataError {
  let where: string | undefined;
  type.isValid(value, {
    errorHook: (path: string[], v: unknown, t: Type) => {
      where ??= `field "${path.join(".")}": ${preview(v)} is not a valid ${describeType(t)}`;
    },
  });
  return new DataError(ErrorCode.SCHEMA_VALUE_INVALID, `topic "${topic}" ${role}: ${where ?? (cause as Error).message}`, { cause });
}
