/**
 * One spelling per schema, and the embedded registry's ids derived from it.
 *
 * Avro's Parsing Canonical Form (full names, fixed key order, no whitespace, no docs or aliases)
 * would also drop logical types, decimal precision and scale, and defaults: decimal(10,2) and
 * decimal(12,4) would be "the same schema" and share an id while their bytes mean different
 * numbers. So our form is the PCF plus what changes a value's meaning or its resolution:
 * logicalType, precision, scale, connect.name, connect.parameters (the source column type the
 * sinks rebuild tables from), field defaults, and our own `liberator.*` properties of records and
 * fields (the original column name of a renamed field, whether it was masked or hashed, the
 * stream's owner, PII and deprecation): consumers read those from the registry, which keeps the
 * text of the first schema registered under an id, so a change to them must change the id.
 */
import { createHash } from "node:crypto";
import type { Type } from "avsc";
import type { AvroSchema } from "../connector.js";
import { ErrorCode, LiberatorError } from "../errors.js";
import { avroType } from "./logical-types.js";
import { stableJson } from "../json.js";

const PRIMITIVES = new Set(["null", "boolean", "int", "long", "float", "double", "bytes", "string"]);
const NAMED = new Set(["record", "error", "enum", "fixed"]);
const KEPT_TYPE_ATTRIBUTES = ["logicalType", "precision", "scale", "connect.name", "connect.parameters"] as const;
/** The SQL column a field stands for when its name had to change to be a valid Avro name. */
export const COLUMN_ATTRIBUTE = "liberator.column";
/** Our properties: part of the identity (a column published in clear and hashed must not share an id). */
const OWN_ATTRIBUTE_PREFIX = "liberator.";

function fullName(name: string, namespace: string | undefined): string {
  return name.includes(".") || !namespace ? name : `${namespace}.${name}`;
}

function namespaceOf(fullname: string): string | undefined {
  const i = fullname.lastIndexOf(".");
  return i < 0 ? undefined : fullname.slice(0, i);
}

function kept(schema: Record<string, unknown>): string {
  let out = "";
  for (const attr of KEPT_TYPE_ATTRIBUTES) {
    if (schema[attr] !== undefined) out += `,${JSON.stringify(attr)}:${stableJson(schema[attr])}`;
  }
  return out;
}

/** The `liberator.*` properties of a record or field, sorted by name. */
function own(attributes: Record<string, unknown>): string {
  let out = "";
  for (const name of Object.keys(attributes).filter((k) => k.startsWith(OWN_ATTRIBUTE_PREFIX)).sort()) {
    out += `,${JSON.stringify(name)}:${stableJson(attributes[name])}`;
  }
  return out;
}

function write(schema: unknown, namespace: string | undefined): string {
  if (typeof schema === "string") return JSON.stringify(PRIMITIVES.has(schema) ? schema : fullName(schema, namespace));
  if (Array.isArray(schema)) return `[${schema.map((s) => write(s, namespace)).join(",")}]`;
  if (schema === null || typeof schema !== "object") throw new Error(`not a schema: ${JSON.stringify(schema)}`);
  const s = schema as Record<string, unknown>;
  const type = s.type;
  if (typeof type !== "string") return write(type, namespace);
  const extra = kept(s);
  if (PRIMITIVES.has(type)) return extra ? `{"type":${JSON.stringify(type)}${extra}}` : JSON.stringify(type);
  if (NAMED.has(type)) {
    const name = fullName(String(s.name), typeof s.namespace === "string" && s.namespace !== "" ? s.namespace : namespace);
    const inner = namespaceOf(name);
    let body = `{"name":${JSON.stringify(name)},"type":${JSON.stringify(type)}`;
    if (type === "record" || type === "error") {
      const fields = (s.fields as Record<string, unknown>[]).map((f) => {
        let field = `{"name":${JSON.stringify(f.name)},"type":${write(f.type, inner)}`;
        if (f.default !== undefined) field += `,"default":${stableJson(f.default)}`;
        return `${field}${own(f)}}`;
      });
      body += `,"fields":[${fields.join(",")}]`;
    } else if (type === "enum") {
      body += `,"symbols":${JSON.stringify(s.symbols)}`;
      if (s.default !== undefined) body += `,"default":${JSON.stringify(s.default)}`;
    } else {
      body += `,"size":${JSON.stringify(s.size)}`;
    }
    return `${body}${extra}${own(s)}}`;
  }
  if (type === "array") return `{"type":"array","items":${write(s.items, namespace)}${extra}}`;
  if (type === "map") return `{"type":"map","values":${write(s.values, namespace)}${extra}}`;
  return JSON.stringify(fullName(type, namespace));
}

/** The canonical text of a schema (see the top of this file for what it keeps). */
export function canonicalForm(schema: AvroSchema): string {
  return write(schema, undefined);
}

/** SHA-256 of the canonical form, hex: tells two schemas with the same id apart. */
export function fingerprint(canonical: string): string {
  return createHash("sha256").update(canonical).digest("hex");
}

/**
 * A schema id from its canonical form: the first 32 bits of its SHA-256, folded into
 * 1..2^31-1 (Confluent ids are positive Java ints). Workers that register the same schema at the
 * same time compute the same id without talking to each other. Two different schemas can land
 * on one id (about one chance in 4·10^6 for 1,000 schemas): the embedded registry detects that and
 * refuses the second one.
 */
export function schemaId(canonical: string): number {
  const hash = createHash("sha256").update(canonical).digest();
  return (hash.readUInt32BE(0) % 0x7fffffff) + 1;
}

/** A schema as the registries keep it: its text, canonical form, and compiled avsc type. */
export interface ParsedSchema {
  schema: AvroSchema;
  /** Compact JSON of the schema as given (docs and other attributes kept). */
  text: string;
  canonical: string;
  type: Type;
}

export function invalidSchema(message: string, cause?: unknown): LiberatorError {
  return new LiberatorError(ErrorCode.SCHEMA_INVALID, message, cause === undefined ? {} : { cause });
}

/** Parses and compiles schema text (or a schema object); throws SCHEMA_INVALID with avsc's reason. */
export function parseSchema(input: string | AvroSchema): ParsedSchema {
  let schema: AvroSchema;
  try {
    schema = typeof input === "string" ? (JSON.parse(input) as AvroSchema) : input;
  } catch (err) {
    // a bare name such as `string` is no JSON but is a valid Avro schema
    if (typeof input === "string" && /^[A-Za-z_][\w.]*$/.test(input.trim())) schema = input.trim();
    else throw invalidSchema(`Invalid schema: ${(err as Error).message}`, err);
  }
  let type: Type;
  try {
    type = avroType(schema);
  } catch (err) {
    throw invalidSchema(`Invalid schema ${typeof input === "string" ? input : JSON.stringify(input)}: ${(err as Error).message}`, err);
  }
  return { schema, text: JSON.stringify(schema), canonical: canonicalForm(schema), type };
}
