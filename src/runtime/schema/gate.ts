import type { AvroSchema, SchemaGate } from "../connector.js";
import type { SchemaCatalog } from "./catalog.js";

/**
 * What a source calls when a table's schema changes (a DDL, a new outbox event version): the same
 * check the serializer makes before registering, made early, so the connector stops at the
 * position of the change and not at the first record after it. Registers nothing.
 */
export function createSchemaGate(catalog: SchemaCatalog): SchemaGate {
  return {
    check: (subject: string, schema: AvroSchema) => catalog.check(subject, catalog.parsed(schema)),
  };
}
