import type { Resolver, Type } from "avsc";
import { DataError, ErrorCode } from "../errors.js";
import { parseSchema, type ParsedSchema } from "../avro/canonical.js";
import type { SchemaCatalog } from "./catalog.js";
import type { SchemaView } from "../connector.js";
import type { DecodedValue, RecordDeserializer } from "./serde.js";
import { HEADER_SIZE, readSchemaId } from "./wire-format.js";

/** A view's reader of one writer schema; null where the view takes all of it. */
type Reader = { type: Type; resolver: Resolver } | null;

/** Reads the Confluent wire format with the writer's schema, fetched once per id. */
export class AvroDeserializer implements RecordDeserializer {
  private readonly schemas = new Map<number, ParsedSchema>();
  private readonly readers = new WeakMap<SchemaView, Map<number, Reader>>();

  constructor(private readonly catalog: SchemaCatalog) {}

  async deserialize(data: Buffer | null, view?: SchemaView): Promise<DecodedValue | null> {
    if (data === null) return null;
    const id = readSchemaId(data);
    let schema = this.schemas.get(id);
    if (!schema) {
      schema = await this.catalog.schemaFor(id);
      this.schemas.set(id, schema);
    }
    return decode(data, id, schema, view && this.reader(view, id, schema));
  }

  deserializeKnown(data: Buffer | null, view?: SchemaView): DecodedValue | null | undefined {
    if (data === null) return null;
    const id = readSchemaId(data);
    const schema = this.schemas.get(id);
    return schema && decode(data, id, schema, view && this.reader(view, id, schema));
  }

  private reader(view: SchemaView, id: number, writer: ParsedSchema): Reader {
    let byId = this.readers.get(view);
    if (!byId) this.readers.set(view, (byId = new Map<number, Reader>()));
    let reader = byId.get(id);
    if (reader === undefined) {
      reader = readerOf(view, writer);
      byId.set(id, reader);
    }
    return reader;
  }
}

/**
 * A view that avsc cannot resolve against the writer is a fault of the view, not of the data:
 * the payload is then read whole, as without one.
 */
function readerOf(view: SchemaView, writer: ParsedSchema): Reader {
  try {
    const schema = view(writer.schema);
    if (schema === undefined) return null;
    const { type } = parseSchema(schema);
    return { type, resolver: type.createResolver(writer.type) };
  } catch {
    return null;
  }
}

function decode(data: Buffer, id: number, schema: ParsedSchema, reader: Reader | undefined): DecodedValue {
  let decoded: { value: unknown; offset: number };
  try {
    decoded = reader ? reader.type.decode(data, HEADER_SIZE, reader.resolver) : schema.type.decode(data, HEADER_SIZE);
  } catch (err) {
    throw new DataError(ErrorCode.WIRE_FORMAT_INVALID, `the payload does not decode with schema ${id}: ${(err as Error).message}`, { cause: err });
  }
  if (decoded.offset !== data.length) {
    const problem = decoded.offset < 0 ? "is truncated" : `has ${data.length - decoded.offset} bytes after the record`;
    throw new DataError(ErrorCode.WIRE_FORMAT_INVALID, `a payload with schema ${id} ${problem}`);
  }
  return { value: decoded.value, schema: schema.schema, schemaId: id };
}
