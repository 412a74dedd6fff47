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
  owner: z.string().min(1).optional().describe("the team or person consumers ask about the stream"),
  namespace: z.string().min(1).optional().describe('the data domain in the catalog ("sales", "crm"); it does not rename the Avro records'),
  description: z.string().min(1).optional().describe("what the stream holds; the record's `doc`"),
  deprecated: deprecation.optional().describe('`true`, or `{ replacement, date: "YYYY-MM-DD", reason }`; `false` undoes a deprecation a pattern or default declared'),
  pii: z
    .union([stringList(), z.record(z.string().min(1), z.enum(PII_HANDLINGS))])
    .optional()
    .describe("personal data: a list of fields (or columns), published as `piiHandling` says, or a mapping field → `clear`, `mask`, `hash`, `drop`"),
  piiHandling: z.enum(PII_HANDLINGS).optional().meta({ defaultText: "`clear`", description: "how the fields of a `pii` list are published, when no more specific level sets it" }),
  financial: stringList().optional().describe("fields flagged `liberator.financial` in the schema and the catalog, published as they are"),
});

export type StreamMetadataConfig = z.infer<typeof streamMetadataSchema>;

const usesHash = (m: StreamMetadataConfig | undefined): boolean =>
  m !== undefined &&
  ((m.piiHandling === "hash" && m.pii !== undefined) || (m.pii !== undefined && !Array.isArray(m.pii) && Object.values(m.pii).includes("hash")));

export const streamsConfigSchema = z
  .strictObject({
    defaults: streamMetadataSchema.optional().describe("metadata (the fields below) for every stream Liberator writes"),
    connectors: z
      .record(z.string().min(1), streamMetadataSchema)
      .default({})
      .meta({ keyName: "name", description: "metadata for every stream of that connector" }),
    topics: z
      .record(z.string().min(1), streamMetadataSchema)
      .default({})
      .meta({
        keyName: "topic or pattern",
        description: "metadata for a topic; `*` (any run of characters) and `?` (one) make a pattern. Patterns apply in the order written, over the defaults and the connector's; the exact topic last",
      }),
    hashKey: z
      .string()
      .min(16, "must be at least 16 characters")
      .optional()
      .describe("the HMAC secret of the fields declared `hash` (16+ characters; use `${file:…}`); needed as soon as one is"),
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
  producerByteRate: byteRate().optional().describe("bytes/s its producer may write, a source's records or a sink's dead letters (`10MiB`, `5MB/s`, or a number)"),
  consumerByteRate: byteRate().optional().describe("bytes/s its consumer may fetch, a sink's input"),
});

export const governanceConfigSchema = z.strictObject({
  catalogTopic: z.string().min(1).default(CATALOG_TOPIC).describe("the stream catalog's compacted topic"),
  schemaChangesTopic: z
    .string()
    .min(1)
    .default(SCHEMA_CHANGES_TOPIC)
    .describe("where a notice goes each time a stream's subject gets a new schema version (compacted, one partition); its transactional id is `liberator-<topic>`"),
  acls: z
    .strictObject({
      principal: z
        .string()
        .regex(/^[A-Za-z]+:.+$/, 'must be "<type>:<name>", e.g. "User:liberator"')
        .optional()
        .meta({ defaultText: "`User:<kafka.sasl.username>`", description: "the principal Liberator's workers authenticate as, e.g. `User:liberator` or, with mTLS, `User:CN=liberator,OU=data`" }),
      host: z.string().min(1).default("*").describe("the host the ACLs allow (`*`: any)"),
      topics: z
        .record(z.string().min(1), stringList())
        .default({})
        .meta({ keyName: "connector", description: "more output topics of a connector than its config tells (a topic, or a prefix ending in `*`), e.g. a query source's custom query topics" }),
    })
    .prefault({}),
  quotas: z.record(z.string().min(1), quota).default({}).meta({ keyName: "connector" }),
});

