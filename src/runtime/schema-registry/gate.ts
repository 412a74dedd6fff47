import type { AvroSchema, SchemaGate } from "../connector.js";
import { parseSchema } from "../avro/canonical.js";
import type { SchemaCatalog } from "./catalog.js";

/**
 * What a source calls when a table's schema changes (a DDL, a new outbox event version): the same
 * check the serializer makes before registering, made early, so the connector stops at the
 * position of the change and not at the first record after it. Registers nothing.
 */
export function createSchemaGate(catalog: SchemaCatalog): SchemaGate {
  return {
    check: (subject: string, schema: AvroSchema) => catalog.check(subject, catalog.parsed(schema)),
    // through the catalog, so asking again gives the same schema object (the serializer caches by it)
    registered: async (subject: string, version: number | "latest" = "latest") =>
      catalog.parsed(parseSchema((await catalog.registry.version(subject, version)).schema).schema).schema,
  };
}
