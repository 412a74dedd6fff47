/**
 * Hard-delete detection (`deletes.detect: checksum`). A poll never sees a row that is gone, so the
 * source remembers which keys it has emitted and, every `deletes.intervalMs`, compares them chunk by
 * chunk with the table: a key it emitted that the table no longer has gets a delete and a
 * tombstone. The key set travels in the position, compressed, so a restart (even kill -9) loses
 * nothing: it is exactly the set of keys the committed records left alive in the topic.
 *
 * Cost: about 40 bytes of memory per key; in the position a few bytes per key for integer keys
 * that are close together, the key's JSON compressed otherwise. `deletes.maxStateBytes` bounds it.
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";
import type { Json } from "../../runtime/connector.js";
import { ErrorCode, PreconditionError } from "../../runtime/errors.js";
import { decodeValue, encodeValue } from "./position.js";

/** Keys per chunk: one IN list per chunk and pass. */
export const CHUNK_KEYS = 2048;

/** A key as one comparable value: a safe integer for a one-integer key, else the JSON of its values. */
export type KeyId = number | string;

/**
 * The identity of a record key (canonical values, as the stream's `keyOf` gives them). Integers
 * are spelled one way whether they came as number or bigint, so an INT that a DDL made a BIGINT
 * keeps its keys.
 */
export function keyIdentity(key: Record<string, unknown>): KeyId {
  const values = Object.values(key);
  const only = values.length === 1 ? values[0] : undefined;
  if ((typeof only === "number" && Number.isSafeInteger(only)) || typeof only === "bigint") {
    return Number.isSafeInteger(Number(only)) ? Number(only) : String(only);
  }
  return JSON.stringify(values.map((v) => (typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v)) ? String(v) : encodeValue(v))));
}

/** The values of a key identity, in key column order, as SQL parameters. */
export function keyValues(id: KeyId): unknown[] {
  if (typeof id === "number" || !id.startsWith("[")) return [id];
  return (JSON.parse(id) as Json[]).map(decodeValue);
}

function varints(values: number[]): Buffer {
  const out: number[] = [];
  let previous = 0;
  for (const v of values) {
    // zigzag, so a negative step (never after sorting, but a first value may be negative) stays small
    let d = v - previous;
    previous = v;
    d = d >= 0 ? d * 2 : -d * 2 - 1;
    while (d >= 128) {
      out.push((d % 128) | 128);
      d = Math.floor(d / 128);
    }
    out.push(d);
  }
  return Buffer.from(out);
}

function unvarints(buf: Buffer): number[] {
  const out: number[] = [];
  let previous = 0;
  for (let i = 0; i < buf.length; ) {
    let d = 0;
    let scale = 1;
    let b: number;
    do {
      b = buf[i++]!;
      d += (b & 127) * scale;
      scale *= 128;
    } while (b & 128);
    previous += d % 2 === 0 ? d / 2 : -(d + 1) / 2;
    out.push(previous);
  }
  return out;
}

function encodeChunk(ids: KeyId[]): string {
  if (ids.every((id) => typeof id === "number")) {
    const sorted = ids.slice().sort((a, b) => a - b);
    return `i${deflateRawSync(varints(sorted)).toString("base64")}`;
  }
  return `j${deflateRawSync(JSON.stringify(ids)).toString("base64")}`;
}

function decodeChunk(text: string): KeyId[] {
  const body = inflateRawSync(Buffer.from(text.slice(1), "base64"));
  return text.startsWith("i") ? unvarints(body) : (JSON.parse(body.toString()) as KeyId[]);
}

/** The keys emitted and not deleted since, in chunks, with each chunk's encoding cached. */
export class EmittedKeys {
  private readonly chunks: KeyId[][];
  private readonly encoded: (string | undefined)[];
  private readonly where = new Map<KeyId, number>();

  constructor(
    encoded: readonly string[] | undefined,
    private readonly maxBytes: number,
    private readonly label: string,
  ) {
    this.chunks = (encoded ?? []).map(decodeChunk);
    this.encoded = [...(encoded ?? [])];
    this.chunks.forEach((chunk, i) => chunk.forEach((id) => this.where.set(id, i)));
  }

  get size(): number {
    return this.where.size;
  }

  get chunkCount(): number {
    return this.chunks.length;
  }

  chunk(i: number): readonly KeyId[] {
    return this.chunks[i] ?? [];
  }

  add(id: KeyId): void {
    if (this.where.has(id)) return;
    let last = this.chunks.length - 1;
    if (last < 0 || this.chunks[last]!.length >= CHUNK_KEYS) {
      this.chunks.push([]);
      this.encoded.push(undefined);
      last++;
    }
    this.chunks[last]!.push(id);
    this.encoded[last] = undefined;
    this.where.set(id, last);
  }

  remove(id: KeyId): void {
    const i = this.where.get(id);
    if (i === undefined) return;
    const chunk = this.chunks[i]!;
    chunk.splice(chunk.indexOf(id), 1);
    this.encoded[i] = undefined;
    this.where.delete(id);
  }

  /** After a pass: chunks emptied or thinned by deletes are packed again, so a pass stays one query per CHUNK_KEYS keys. */
  compact(): void {
    const needed = Math.ceil(this.where.size / CHUNK_KEYS);
    if (this.chunks.length <= needed * 2 && !this.chunks.some((c) => c.length === 0)) return;
    const all = this.chunks.flat();
    this.chunks.length = 0;
    this.encoded.length = 0;
    this.where.clear();
    for (const id of all) this.add(id);
  }

  /** The position's form; throws when it would outgrow `deletes.maxStateBytes`. */
  encode(): string[] {
    let bytes = 0;
    for (let i = 0; i < this.chunks.length; i++) {
      this.encoded[i] ??= encodeChunk(this.chunks[i]!);
      bytes += this.encoded[i]!.length;
    }
    if (bytes > this.maxBytes) {
      throw new PreconditionError(
        ErrorCode.QUERY_KEYS_TOO_LARGE,
        `${this.label}: the ${this.where.size} keys that hard-delete detection keeps take ${Math.round(bytes / 1024)} KiB in the position, over deletes.maxStateBytes (${Math.round(this.maxBytes / 1024)} KiB)`,
        { fix: "raise deletes.maxStateBytes (the position is one Kafka record: keep it well under the broker's message.max.bytes), or capture this table with the binlog source, which sees deletes" },
      );
    }
    return this.encoded as string[];
  }
}
