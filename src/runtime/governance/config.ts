/**
 * The root config's `streams:` block (what each stream is: owner, PII, deprecation) and its
 * `governance:` block (where the catalog and notices live, ACLs, quotas). Their own file, like
 * schema-registry/config.ts, so the loader checks them without loading the governance code.
 */
import { z } from "zod";
import { bool, stringList } from "../config/fields.js";

/** What happens to a field declared `pii`: published as it is (but flagged), masked, hashed (keyed HMAC), or left out. */
export const PII_HANDLINGS = ["clear", "mask", "hash", "drop"] as const;
export type PiiHandling = (typeof PII_HANDLINGS)[number];

export const CATALOG_TOPIC = "_liberator_streams";
export const SCHEMA_CHANGES_TOPIC = "_liberator_schema_changes";

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as "2026-06-30"');

const deprecation = z.union([
  bool(),
  z.strictObject({
    /** The stream consumers should move to. */
    replacement: z.string().min(1).optional(),
    /** When the stream stops being written (ISO date). */
    date: isoDate.optional(),
    reason: z.string().min(1).optional(),
  }),
]);

/** Metadata of a stream, or defaults for several. Every field is optional; more specific levels win. */
export const streamMetadataSchema = z.strictObject({
  /** The team or person consumers ask about this stream. */
  owner: z.string().min(1).optional(),
  /** The data domain the stream belongs to in the catalog ("sales", "crm"); not the Avro namespace. */
  namespace: z.string().min(1).optional(),
  /** What the stream holds; becomes the record's `doc`. */
  description: z.string().min(1).optional(),
  /** true, or { replacement, date, reason }; false undoes a deprecation declared by a pattern or default. */
  deprecated: deprecation.optional(),
  /**
   * Personal data: a list of fields (columns), handled as `piiHandling` says, or a mapping from
   * field to handling (clear, mask, hash, drop).
   */
  pii: z.union([stringList(), z.record(z.string().min(1), z.enum(PII_HANDLINGS))]).optional(),
  /** How the fields of a `pii` list are published; clear (flagged only) when no level sets it. */
  piiHandling: z.enum(PII_HANDLINGS).optional(),
  /** Financial fields: flagged in the schema and the catalog, published as they are. */
  financial: stringList().optional(),
});

export type StreamMetadataConfig = z.infer<typeof streamMetadataSchema>;

const usesHash = (m: StreamMetadataConfig | undefined): boolean =>
  m !== undefined &&
  ((m.piiHandling === "hash" && m.pii !== undefined) || (m.pii !== undefined && !Array.isArray(m.pii) && Object.values(m.pii).includes("hash")));

export const streamsConfigSchema = z
  .strictObject({
    /** For every stream Liberator writes. */
    defaults: streamMetadataSchema.optional(),
    /** For every stream of one connector, by connector name. */
    connectors: z.record(z.string().min(1), streamMetadataSchema).default({}),
    /**
     * By topic; a key with `*` (any run of characters) or `?` (one) is a pattern. Patterns apply in
     * the order written, over the defaults; an exact topic applies last.
     */
    topics: z.record(z.string().min(1), streamMetadataSchema).default({}),
    /** The HMAC secret for fields hashed by stream declarations (use `${file:…}`); at least 16 characters. */
    hashKey: z.string().min(16, "must be at least 16 characters").optional(),
  })
  .superRefine((c, ctx) => {
    const hashing = usesHash(c.defaults) || [...Object.values(c.connectors), ...Object.values(c.topics)].some(usesHash);
    if (hashing && !c.hashKey) {
      ctx.addIssue({
        code: "custom",
        path: ["hashKey"],
        message: "is needed: a stream hashes PII fields (set it, e.g. hashKey: ${file:/etc/liberator/secrets/pii-key})",
      });
    }
  });

export type StreamsConfig = z.infer<typeof streamsConfigSchema>;

const BYTE_UNITS: Record<string, number> = { "": 1, b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };

/** Bytes per second: a number, or "512KiB", "10MB/s", "1GiB". */
export const byteRate = () =>
  z.union([
    z.number().positive(),
    z
      .string()
      .regex(/^\s*\d+(\.\d+)?\s*(b|kb|kib|mb|mib|gb|gib)?(\/s)?\s*$/i, 'must be bytes per second, e.g. 1048576, "10MiB" or "5MB/s"')
      .transform((s) => {
        const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)/i.exec(s)!;
        return Math.round(Number(m[1]) * BYTE_UNITS[(m[2] ?? "").toLowerCase()]!);
      }),
  ]);

const quota = z.strictObject({
  /** Bytes per second the connector's producer may write (a source's records, a sink's dead letters). */
  producerByteRate: byteRate().optional(),
  /** Bytes per second the connector's consumer may fetch (a sink's input). */
  consumerByteRate: byteRate().optional(),
});

export const governanceConfigSchema = z.strictObject({
  /** The compacted topic of the stream catalog. */
  catalogTopic: z.string().min(1).default(CATALOG_TOPIC),
  /** Where a notice goes each time a stream's subject gets a new schema version. */
  schemaChangesTopic: z.string().min(1).default(SCHEMA_CHANGES_TOPIC),
  acls: z
    .strictObject({
      /**
       * The principal Liberator's workers authenticate as, e.g. "User:liberator" or, with mTLS,
       * "User:CN=liberator,OU=data". Default: User:<kafka.sasl.username>.
       */
      principal: z.string().regex(/^[A-Za-z]+:.+$/, 'must be "<type>:<name>", e.g. "User:liberator"').optional(),
      /** The host the ACLs allow ("*": any). */
      host: z.string().min(1).default("*"),
      /**
       * More output topics per connector, beyond what its config tells (a literal topic, or a
       * prefix ending in `*`), e.g. a query source's custom query topics.
       */
      topics: z.record(z.string().min(1), stringList()).default({}),
    })
    .prefault({}),
  /** Byte-rate quotas per connector (by its Kafka client id), set by `liberator acls apply`. */
  quotas: z.record(z.string().min(1), quota).default({}),
});

