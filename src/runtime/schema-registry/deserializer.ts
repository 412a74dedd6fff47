import { DataError, ErrorCode } from "../errors.js";
import type { ParsedSchema } from "../avro/canonical.js";
import type { SchemaCatalog } from "./catalog.js";
import type { DecodedValue, RecordDeserializer } from "./serde.js";
import { HEADER_SIZE, readSchemaId } from "./wire-format.js";

/** Reads the Confluent wire format with the writer's schema, fetched once per id. */
export class AvroDeserializer implements RecordDeserializer {
  private readonly schemas = new Map<number, ParsedSchema>();

  constructor(private readonly catalog: SchemaCatalog) {}

  async deserialize(data: Buffer | null): Promise<DecodedValue | null> {
    if (data === null) return null;
    const id = readSchemaId(data);
    let schema = this.schemas.get(id);
    if (!schema) {
      schema = await this.catalog.schemaFor(id);
      this.schemas.set(id, schema);
    }
    return decode(data, id, schema);
  }

  deserializeKnown(data: Buffer | null): DecodedValue | null | undefined {
    if (data === null) return null;
    const id = readSchemaId(data);
    const schema = this.schemas.get(id);
    return schema && decode(data, id, schema);
  }
}

function decode(data: Buffer, id: number, schema: ParsedSchema): DecodedValue {
  let decoded: { value: unknown; offset: number };
  try {
    decoded = schema.type.decode(data, HEADER_SIZE);
  } catch (err) {
    throw new DataError(ErrorCode.WIRE_FORMAT_INVALID, `the payload does not decode with schema ${id}: ${(err as Error).message}`, { cause: err });
  }
  if (decoded.offset !== data.length) {
    const problem = decoded.offset < 0 ? "is truncated" : `has ${data.length - decoded.offset} bytes after the record`;
    throw new DataError(ErrorCode.WIRE_FORMAT_INVALID, `a payload with schema ${id} ${problem}`);
  }
  return { value: decoded.value, schema: schema.schema, schemaId: id };
}
