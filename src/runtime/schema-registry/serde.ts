/**
 * What the pipelines need from the schema layer. Implemented by the Avro serializer over a
 * Confluent-compatible registry (external or embedded); see DESIGN.md §4.
 */
import type { AvroSchema, ChangeRecord, SchemaView } from "../connector.js";

export interface EncodedRecord {
  key: Buffer | null;
  value: Buffer | null;
}

export interface RecordSerializer {
  /**
   * Encodes keys and values in the Confluent wire format (magic 0, 4-byte schema id, Avro body),
   * registering each schema under `<topic>-key` / `<topic>-value` (or the record's `valueSubject`)
   * on first use. A schema the subject's compatibility rule refuses throws SchemaIncompatibleError
   * and encodes nothing.
   */
  serialize(records: readonly ChangeRecord[]): Promise<EncodedRecord[]>;
}

export interface DecodedValue {
  value: unknown;
  schema: AvroSchema;
  schemaId: number;
}

export interface RecordDeserializer {
  /** Null in, null out (tombstones and null keys). Throws DataError on a malformed payload. */
  deserialize(data: Buffer | null, view?: SchemaView): Promise<DecodedValue | null>;
  /**
   * The same without a promise, for a payload whose schema was met before (nearly every record of
   * a stream); undefined when its schema has to be fetched first, which `deserialize` does.
   */
  deserializeKnown(data: Buffer | null, view?: SchemaView): DecodedValue | null | undefined;
}
