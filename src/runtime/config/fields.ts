import { z } from "zod";

/*
 * Field helpers for values that may come from `${ENV}` interpolation. Interpolated scalars are
 * strings (a password "0123" must stay a string), so numbers and booleans also accept their
 * string spelling here, and only here.
 */

export const int = (min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) =>
  z.union([z.number(), z.string().regex(/^-?\d+$/, "must be a whole number").transform(Number)]).pipe(
    z.number().int("must be a whole number").min(min).max(max),
  );

export const bool = () =>
  z.union([z.boolean(), z.enum(["true", "false"]).transform((s) => s === "true")]);

export const port = () => int(1, 65535);

/** Milliseconds, also written with a unit: "500ms", "30s", "5m", "1h". */
export const duration = () =>
  z.union([
    z.number().int().nonnegative(),
    z
      .string()
      .regex(/^\d+(ms|s|m|h)?$/, 'must be a duration such as 500, "500ms", "30s", "5m"')
      .transform((s) => {
        const m = /^(\d+)(ms|s|m|h)?$/.exec(s)!;
        const n = Number(m[1]);
        const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "ms"]!;
        return n * unit;
      }),
  ]);

export const stringList = () =>
  z.union([
    z.array(z.string().min(1)),
    z.string().transform((s) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  ]);

const pem = (what: string) =>
  z
    .string()
    .refine((text) => text.includes("-----BEGIN "), `must be PEM text ("-----BEGIN …"); to read the ${what} from a file write \${file:/path/to/it.pem}`);

/** TLS to a server (runtime/tls.ts turns it into client options and explains its failures). */
const tlsOptions = () =>
  z.strictObject({
    /** The CA that signed the server's certificate; the system's CAs when left out. */
    ca: pem("CA").optional(),
    /** A client certificate and its key, for servers that ask for one. */
    cert: pem("certificate").optional(),
    key: pem("key").optional(),
    /** false accepts any certificate: encrypted, but anyone in the middle can read it. */
    rejectUnauthorized: bool().default(true),
    /** false accepts a trusted certificate issued to another host name. */
    verifyHostname: bool().default(true),
  });

/** `true` for TLS with the system's CAs and every check on; an object to name a CA, a client certificate, or loosen a check. */
export const sslSetting = () => z.union([bool(), tlsOptions()]).optional();

const SSL_DOC =
  "`true` for TLS with the system's CAs and every check on, or `{ ca, cert, key, rejectUnauthorized, verifyHostname }` (PEM texts; [TLS](operations.md#tls-databases-and-kafka))";

/** Connection details shared by every MySQL/MariaDB and PostgreSQL connector. */
export const databaseConnection = (defaultPort: number) =>
  z.strictObject({
    host: z.string().default("127.0.0.1").describe("the database server's host name or address"),
    port: port().default(defaultPort).describe("its port"),
    user: z.string().describe("the user Liberator logs in as"),
    password: z.string().default("").describe("its password (use `${file:…}` for a mounted secret)"),
    database: z.string().optional().describe("the database to connect to"),
    ssl: sslSetting().describe(SSL_DOC),
    connectTimeoutMs: duration().default(10_000).describe("how long connecting may take"),
  });

export type DatabaseConnection = z.infer<ReturnType<typeof databaseConnection>>;

/**
 * What to do with MySQL's dates that no calendar has: "null" or "error". YAML's unquoted `null`
 * (a real null, not the word) means "null" too: that is how people write it.
 */
export const zeroDatePolicy = () => z.preprocess((v) => (v === null ? "null" : v), z.enum(["null", "error"])).default("error");

/** A connection's port where the dialect decides it (3306 or 5432). */
export const dialectPort = () => port().optional().meta({ description: "its port", defaultText: "3306 or 5432, by dialect" });
