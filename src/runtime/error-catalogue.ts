/**
 * Every error code Liberator reports, once, with what kind of failure it is and what to do about it.
 * Codes are stable: they appear in metrics (`liberator_errors_total{code}`), in the admin API, in logs
 * and in dead-letter headers, so renaming one is a breaking change. Code compares against
 * `ErrorCode.X`, never against a string; docs/errors.md is generated from this table
 * (`npx tsx scripts/update-docs.ts`), and a unit test checks that it is.
 *
 * Categories (docs/operations.md):
 * - transient: the same operation may well succeed later (a server restarting, a network cut, a
 *   deadlock, a privilege revoked for a while). The connector is `retrying` with backoff for as
 *   long as the fault lasts, and heals by itself.
 * - data: this record cannot be decoded, mapped or written. It goes to the dead-letter topic where
 *   `errors.tolerance: all` allows, else the connector stops at that record.
 * - configuration: the config, a server setting or a stored position must change. The connector
 *   stops (`failed`) with the fix; a person must act. Operator requests that cannot be carried out
 *   (an unknown connector, offsets that do not parse) are of this kind too.
 * - internal: a failure nothing classified; a `failed` connector with it is restarted by the
 *   worker with a long backoff, since it may well be transient.
 */
export type ErrorCategory = "transient" | "data" | "configuration" | "internal";

export interface ErrorEntry {
  readonly category: ErrorCategory;
  /** Retried with backoff at once (only transient failures are). */
  readonly retriable: boolean;
  /** What happened, in general terms (the error's own message says it of the case at hand). */
  readonly description: string;
  /** What to do; the error's own `fix` is more specific where it has one. */
  readonly fix: string;
}

const transient = (description: string, fix: string): ErrorEntry => ({ category: "transient", retriable: true, description, fix });
const data = (description: string, fix: string): ErrorEntry => ({ category: "data", retriable: false, description, fix });
const configuration = (description: string, fix: string): ErrorEntry => ({ category: "configuration", retriable: false, description, fix });
const internal = (description: string, fix: string): ErrorEntry => ({ category: "internal", retriable: false, description, fix });

const RESET_OFFSETS = "reset the connector's offsets (`liberator offsets reset --connector <name>`); the tables are copied again";

export const ERROR_CATALOGUE = {
  // ── transient: retried with backoff until it heals ────────────────────────────────────────────
  CONNECTION_FAILED: transient(
    "A server (database, Redis, schema registry) could not be reached, refused the connection, dropped it, is restarting or has too many connections.",
    "Nothing, if the server comes back: the connector retries from its last committed position. Otherwise check the server, the network and `connection.*`.",
  ),
  DB_CONFLICT: transient(
    "The database aborted a statement for a deadlock, a lock wait timeout or a serialization failure.",
    "Nothing: the transaction is retried. If it keeps happening, look for long transactions on the same rows.",
  ),
  DB_PRIVILEGE_MISSING: transient(
    "The database user lacks a privilege the connector needs right now (revoked, or not granted yet).",
    "GRANT what the message names; the connector retries and heals once it may.",
  ),
  BINLOG_PRIVILEGES_MISSING: transient(
    "The binlog user lacks REPLICATION SLAVE, REPLICATION CLIENT or SELECT (at run time: revoked meanwhile). `liberator validate` reports it as a failed check.",
    "GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO the user; the connector heals once it may.",
  ),
  OUTBOX_PRIVILEGE_MISSING: transient(
    "The outbox relay's user may not read or delete from the outbox table.",
    "GRANT SELECT, DELETE (UPDATE for cleanup: mark) on the outbox table to the connector's user; the connector heals once it may.",
  ),
  KAFKA_UNAVAILABLE: transient(
    "Kafka could not be reached or answered that it cannot serve now: broker down or restarting, leader moved, coordinator not available or loading, request timed out, not enough replicas.",
    "Nothing, if the brokers come back: the connector rebuilds its clients and retries from its last committed position. Otherwise check `kafka.brokers` and the brokers.",
  ),
  KAFKA_NOT_AUTHORIZED: transient(
    "A Kafka ACL refuses Liberator's principal an operation (topic, group, transactional id or cluster).",
    "Grant the ACLs docs/governance.md lists (or let `governance.acls` set them); the connector heals once it may.",
  ),
  SCHEMA_REGISTRY_UNAVAILABLE: transient(
    "The schema registry could not be reached or answered with a server error (5xx, 429, 408).",
    "Nothing, if it comes back; otherwise check `schemaRegistry.url` and the registry.",
  ),
  QUERY_FAILED: transient(
    "A query source's page query failed for a reason the database did not classify.",
    "Check the table and the user's privileges; the connector retries from its last committed position.",
  ),
  QUERY_SCHEMA_UNSTABLE: transient(
    "A query source's table kept changing its columns while a page was read.",
    "Nothing: it is read again once the DDL is done.",
  ),
  CONNECTOR_MOVED: transient(
    "In cluster mode, a request reached a worker that no longer runs the connector.",
    "Nothing: the request is sent to the worker that runs it now.",
  ),
  CLUSTER_TIMEOUT: transient(
    "In cluster mode, the worker that runs the connector did not answer in time.",
    "Check that worker's logs and its connection to Redis; `cluster.requestTimeoutMs` sets the wait.",
  ),
  WORKER_GONE: transient("In cluster mode, the worker that ran the connector is not listening any more.", "Nothing: another worker takes the connector over."),
  STOPPED: transient("The connector was stopped while a batch was in flight.", "Nothing: what was not committed is read again at the next start."),
  CLUSTER_CLOSED: transient("The worker asked is shutting down.", "Ask again: another worker takes its connectors over."),

  // ── data: one record cannot be decoded, mapped or written ─────────────────────────────────────
  WIRE_FORMAT_INVALID: data(
    "A record is not in the Confluent wire format (magic byte 0, 4-byte schema id, Avro body), or its body does not decode with its schema.",
    "Set `errors.tolerance: all` to send such records to the dead-letter topic, or find the producer that wrote it.",
  ),
  SCHEMA_NOT_FOUND: data(
    "A record names a schema id the registry does not have (404).",
    "Set `errors.tolerance: all` to dead-letter it, or point `schemaRegistry` at the registry its producer used.",
  ),
  SCHEMA_VALUE_INVALID: data("A value does not fit its Avro schema.", "Fix the row, or the column's mapping."),
  SCHEMA_ZERO_DATE: data("A MySQL zero date (0000-00-00) or partial zero date reached a column that must hold a real date.", "Set `zeroDates`/`partialZeroDates: null`, or fix the rows."),
  SINK_ROW_REFUSED: data(
    "The target refused a row: a constraint, a value out of range or too long, a foreign key.",
    "Fix the record or the table's constraints; `errors.tolerance: all` dead-letters such rows.",
  ),
  SINK_RECORD_NOT_A_ROW: data("A sql sink read a record that is not a row (an Avro record) nor a change event.", "Point the sql sink at topics of rows or change events."),
  SINK_RECORD_INVALID: data("A change event has no `after` row where its op needs one, or an unknown op.", "Find the producer that wrote it; `errors.tolerance: all` dead-letters it."),
  SINK_RECORD_KEY_MISSING: data("A delete carries none of the table's key columns.", "Find the producer that wrote it; `errors.tolerance: all` dead-letters it."),
  POSITION_INVALID: data("A stored position cannot be read back.", "Reset it with `liberator offsets reset --connector <name>`."),
  OUTBOX_PAYLOAD_INVALID: data("An outbox row's payload does not fit its event type's schema.", "Fix the application that wrote it."),
  OUTBOX_PAYLOAD_NOT_JSON: data("An outbox row's payload is not JSON.", "Fix the application that wrote it."),
  OUTBOX_HEADERS_INVALID: data("An outbox row's headers are not a JSON object of strings.", "Fix the application that wrote it."),
  OUTBOX_TOPIC_INVALID: data("An outbox row routes to a name that is no valid Kafka topic.", "Fix the row, or the `topic` pattern."),
  OUTBOX_ID_INVALID: data("An outbox row's id is not an integer below 2^53.", "The id column must be an auto-increment or sequence integer."),
  OUTBOX_EVENT_TYPE_UNKNOWN: data("An outbox row's event type has no schema.", "Add `events.<type>` with its schema (an .avsc file or a registry subject)."),
  OUTBOX_CHANGE_INVALID: data(
    "A change row written by the capture triggers cannot be read (no schema.table, a missing column, not JSON).",
    "Re-create the triggers with `liberator outbox triggers … --apply`.",
  ),
  KAFKA_RECORD_REJECTED: data("Kafka refused a record or a batch (too large, corrupt).", "Raise the broker's `message.max.bytes` or lower `batch.maxBytes`; find the record."),

  // ── configuration: a person must change something ─────────────────────────────────────────────
  CONFIG_INVALID: configuration("The config file cannot be used as written.", "Edit it as each problem says; `liberator validate` lists them all."),
  DB_AUTH_FAILED: configuration("The database refused the user's credentials.", "Check `connection.user` and `connection.password` (and the host part of the MySQL user)."),
  DB_TLS_FAILED: configuration(
    "The TLS handshake with the database failed: its certificate is not signed by the configured CA, is issued to another host name, has expired, or the server does not speak TLS.",
    "Set `connection.ssl.ca` to the CA that signed the server's certificate, connect by a name the certificate lists (`connection.host`), or turn TLS on at the server.",
  ),
  DB_NOT_FOUND: configuration("The database named in `connection.database` does not exist.", "Create it, or fix `connection.database`."),
  FENCED: configuration(
    "Another instance of the connector took over (Kafka transactional id or sink epoch); writing on would duplicate data.",
    "Only one instance of a connector may run; this one stops and leaves the position to the newer one.",
  ),
  KAFKA_AUTH_FAILED: configuration("Kafka refused Liberator's credentials (SASL authentication).", "Check `kafka.sasl` and `kafka.ssl`."),
  KAFKA_TLS_FAILED: configuration(
    "The TLS handshake with a Kafka broker failed: its certificate is not signed by the configured CA, is issued to another host name, has expired, or the listener does not speak TLS.",
    "Set `kafka.ssl.ca` to the CA that signed the brokers' certificates, list the brokers by names their certificates carry (`kafka.brokers`), or point at the brokers' TLS listener.",
  ),
  SCHEMA_REGISTRY_AUTH: configuration("The schema registry refused the credentials (401/403).", "Check `schemaRegistry.basicAuth`."),
  SCHEMA_REGISTRY_ERROR: configuration("The schema registry answered with an error Liberator does not know.", "Read the message; check `schemaRegistry.url`."),
  SCHEMA_SUBJECT_NOT_FOUND: configuration("The registry has no such subject.", "Register it, or fix the subject's name."),
  SCHEMA_VERSION_NOT_FOUND: configuration("The subject has no such version.", "List the versions (`GET /subjects/<subject>/versions`)."),
  SCHEMA_VERSION_INVALID: configuration("A version is not 1..2^31-1 nor `latest`.", "Give a valid version."),
  SCHEMA_INVALID: configuration("A schema is not valid Avro, not Avro at all, or clashes with another under the same id.", "Fix the schema as the message says."),
  SCHEMA_INCOMPATIBLE: configuration(
    "A new schema version breaks the subject's compatibility rule; the connector stops at that position and produces nothing after it.",
    "Make the change compatible (e.g. give a new column a default), or change the subject's compatibility level.",
  ),
  SCHEMA_COMPATIBILITY_INVALID: configuration("An unknown compatibility level.", "Use none, backward, forward, full, or one of the *_transitive levels."),
  SCHEMA_COMPATIBILITY_NOT_SET: configuration("The subject has no compatibility level of its own.", "Set one, or read the global level."),
  SCHEMA_TYPE_UNSUPPORTED: configuration("A column or field has a type Liberator has no lossless mapping for.", "Exclude the column, or select it cast to a supported type."),
  SCHEMA_LABELS_UNREADABLE: configuration(
    "An ENUM or SET label has a 4-byte character, which information_schema shows as '?', and its exact labels could not be read another way.",
    "Use MariaDB 10.2.2+ or MySQL 8.0+ and GRANT SELECT on the table to the user; or exclude the column.",
  ),
  SCHEMA_FIELD_NAME_CLASH: configuration("Two columns become the same Avro field name.", "Exclude or rename one of them."),
  SCHEMA_KEY_COLUMN_MISSING: configuration("A key column is not a column of the table.", "Fix `keyColumns`."),
  SCHEMA_ZERO_DATE_KEY: configuration("A key column is a date that zero dates would turn into null, so keys could collide.", 'Set `zeroDates` and `partialZeroDates` to "error", or key the table by other columns.'),
  COLUMN_POLICY_UNKNOWN_COLUMN: configuration("A `columns` rule names a column the table does not have.", "Name one of the table's columns."),
  COLUMN_POLICY_KEY: configuration("A key column is excluded or masked, which would make keys collide or vanish.", "Hash it instead (`columns.hash`)."),
  COLUMN_POLICY_NO_HASH_KEY: configuration("`columns.hash` is used without a secret key.", "Set `hashKey` on the connector (from a file: `${file:…}`)."),
  GOVERNANCE_PII_KEY: configuration("A key field is declared pii with a handling that would make keys collide or vanish.", "Declare it `pii: hash`, or clear."),
  QUOTAS_UNSUPPORTED: configuration("The broker or kafkajs cannot set client quotas.", "Set the quotas with kafka-configs.sh --alter --entity-type clients."),
  QUOTAS_FAILED: configuration("The broker refused a client quota.", "Read the broker's reason in the message."),
  BINLOG_DISABLED: configuration("The MySQL/MariaDB server writes no binary log.", "Add `log_bin = mysql-bin` to the server's my.cnf [mysqld] section and restart it."),
  BINLOG_FORMAT_NOT_ROW: configuration("binlog_format is not ROW.", "SET GLOBAL binlog_format = 'ROW', and in my.cnf."),
  BINLOG_ROW_IMAGE_NOT_FULL: configuration("binlog_row_image is not FULL, so rows lack columns.", "SET GLOBAL binlog_row_image = 'FULL', and in my.cnf."),
  BINLOG_ROW_METADATA_NOT_FULL: configuration("binlog_row_metadata is not FULL, so table maps carry no column names.", "SET GLOBAL binlog_row_metadata = 'FULL', and in my.cnf."),
  BINLOG_TABLES_UNREADABLE: configuration("Captured tables cannot be read by the user.", "GRANT SELECT on them, or fix include/exclude."),
  BINLOG_SERVER_ID_IN_USE: configuration("Another replica already uses the connector's serverId.", "Give the connector a serverId no other replica uses."),
  BINLOG_PREFLIGHT_FAILED: configuration("A start-up check of the binlog source failed.", "Do what the check's fix says; `liberator validate` shows every check."),
  BINLOG_POSITION_PURGED: configuration("The binlog file the stored position needs was purged from the server.", `Copy the tables again (snapshot.mode: when_needed does it by itself), or ${RESET_OFFSETS}.`),
  BINLOG_POSITION_INVALID: configuration("The stored position does not match the server's log (restored, or RESET MASTER).", RESET_OFFSETS),
  BINLOG_XA_UNSUPPORTED: configuration("An XA transaction touches the binlog; it cannot be captured exactly yet.", "Exclude the tables XA transactions write to, or commit them without XA."),
  BINLOG_INCREMENTAL_NEEDS_LOCK: configuration("On MySQL an incremental snapshot needs a brief global read lock per chunk.", "Set `snapshot.locking: minimal` (and grant RELOAD)."),
  PGCDC_WAL_LEVEL: configuration("PostgreSQL's wal_level is not logical, so it writes nothing logical decoding can read.", "ALTER SYSTEM SET wal_level = logical; then restart the server."),
  PGCDC_SLOTS_EXHAUSTED: configuration("PostgreSQL has no free replication slot (max_replication_slots) for the connector.", "Drop an unused slot (pg_drop_replication_slot), or raise max_replication_slots (ALTER SYSTEM SET …; restart)."),
  PGCDC_WAL_SENDERS_EXHAUSTED: configuration("PostgreSQL has no free WAL sender (max_wal_senders) for the connector's replication connection.", "Raise max_wal_senders (ALTER SYSTEM SET …; restart), or stop an idle replication client."),
  PGCDC_REPLICATION_PRIVILEGE_MISSING: configuration("The PostgreSQL user may not open a replication connection (no REPLICATION attribute).", "ALTER ROLE <user> WITH REPLICATION; (Amazon RDS: GRANT rds_replication TO <user>;)."),
  PGCDC_REPLICA_IDENTITY: configuration("A captured table has no replica identity: once it is published, PostgreSQL refuses its updates and deletes.", "ALTER TABLE <table> REPLICA IDENTITY FULL; or give it a primary key (REPLICA IDENTITY DEFAULT)."),
  PGCDC_TABLES_UNREADABLE: configuration("Captured tables cannot be read by the user.", "GRANT SELECT on them, or fix include/exclude."),
  PGCDC_PUBLICATION_MISSING: configuration("The publication the connector reads does not exist (publication.create: never), or lacks captured tables.", "CREATE PUBLICATION … FOR TABLE …, or let the connector create it (publication.create: filtered)."),
  PGCDC_PREFLIGHT_FAILED: configuration("A start-up check of the pgcdc source failed.", "Do what the check's fix says; `liberator validate` shows every check."),
  PGCDC_SLOT_MISSING: configuration("The replication slot the stored position needs was dropped.", `Copy the tables again (snapshot.mode: when_needed does it by itself), or ${RESET_OFFSETS}.`),
  PGCDC_SLOT_INVALIDATED: configuration("The replication slot fell further behind than max_slot_wal_keep_size allows and lost the WAL it needs.", `Copy the tables again (snapshot.mode: when_needed drops the slot and does it by itself), or ${RESET_OFFSETS}.`),
  BINLOG_TABLE_NOT_CAPTURED: configuration("A snapshot names a table the connector does not capture.", "Name captured tables as database.table."),
  PGCDC_TABLE_NOT_CAPTURED: configuration("A snapshot names a table the connector does not capture.", "Name captured tables as schema.table."),
  PGCDC_INCREMENTAL_NEEDS_KEY: configuration("An incremental snapshot of the pgcdc source needs a table with a primary key: it reads key ranges and recognises changed rows by their key.", "Give the table a primary key."),
  OUTBOX_TABLE_MISSING: configuration("The outbox table does not exist.", "Create it with `liberator outbox init -c <config> --connector <name> --apply`, or fix `table`."),
  OUTBOX_COLUMN_MISSING: configuration("The outbox table lacks a column the config names.", "Fix `columns` in the connector's config, or add the column."),
  OUTBOX_REGISTRY_UNAVAILABLE: configuration("An event's schema is to come from a registry, and there is none.", "Configure `schemaRegistry`, or name an .avsc file."),
  OUTBOX_SCHEMA_NOT_REGISTERED: configuration("The registry has no such version of an event's subject.", "Register the event's schema, or name an .avsc file."),
  QUERY_TABLE_MISSING: configuration("A query source's table does not exist, or the user cannot see it.", "Fix the table's name, or GRANT SELECT on it."),
  QUERY_KEY_MISSING: configuration("A query source's table has no key its mode needs.", "Set `keyColumns`."),
  QUERY_KEYS_TOO_LARGE: configuration("Delete detection would hold more keys than it may.", "Raise the limit the message names, or use `deletes.detect: none`."),
  QUERY_COLUMN_MISSING: configuration("A column the config names is not in the table.", "Fix the config, or add the column."),
  QUERY_COLUMN_EXCLUDED: configuration("A column the mode needs is left out by `columns`.", "Keep it in the columns that are read."),
  QUERY_COLUMN_TYPE: configuration("A column has the wrong type for its role (incrementing: integer; timestamp: date-time).", "Point the setting at a column of the right type."),
  QUERY_COLUMN_NULLABLE: configuration("A column that orders the rows allows NULL; rows with NULL there would never be read.", "Make it NOT NULL, or order by other columns."),
  QUERY_TIME_ZONE_UNKNOWN: configuration("The database does not know the configured time zone.", "Set `timeZone` to an IANA name or an offset such as +01:00 (MySQL: load the time zone tables)."),
  SINK_TABLE_MISSING: configuration("The target table does not exist and `autoCreate` is off.", "Create it (the message gives the DDL), or set `autoCreate: true`."),
  SINK_TABLE_COLUMNS_MISSING: configuration("The target table lacks columns the stream has and `autoEvolve` is off.", "Add them (the message gives the DDL), or set `autoEvolve: true`."),
  SINK_TABLE_MISMATCH: configuration("The target table does not fit the stream (columns, types, key).", "Make the table fit the stream, or let autoCreate/autoEvolve manage it."),
  SINK_TABLE_TOO_NARROW: configuration("A target column is too narrow for the stream's values.", "Widen it (the message gives the DDL), or set `autoEvolve: true`."),
  SINK_KEY_MISSING: configuration("The target table has no key columns, which the mode (or deletes) needs.", "Give the records a key, set `keyColumns`, or use `mode: insert` / `deletes: false`."),
  SINK_KEY_COLUMN_MISSING: configuration("The key columns are not columns of the table or fields of the rows.", "Set `keyColumns` to columns the rows have."),
  SINK_KEY_NOT_UNIQUE: configuration("An upsert needs a primary key or unique index on the key columns.", "Add one (the message gives the DDL)."),
  SINK_RECORDS_GONE: configuration(
    "Records a sink has still to write are no longer in Kafka: retention (or a deletion of records) removed them while the sink was behind.",
    "Write on from the oldest record Kafka holds by setting the partition's offset there (the message gives the command); the records before it are lost to this target.",
  ),
  PATCH_MISSING: configuration(
    "A patch of patches/ that Liberator relies on (zongji, kafkajs, mysql2, pg) is not applied to node_modules.",
    "Run `npm install` (its postinstall step applies the patches), or `npx patch-package`.",
  ),
  CONNECTOR_UNKNOWN: configuration("No connector of that name in the config.", "Use one of the names the message lists."),
  CONNECTOR_RUNNING: configuration("Moving a running connector's offsets would fence it.", "Pause it first, or force it."),
  COMMAND_UNAVAILABLE: configuration("The command needs the connector running, or a connector type that supports it.", "Wait until it runs, or use a connector that supports the command."),
  COMMAND_UNKNOWN: configuration("The connector has no such command.", "Use one the message names."),
  COMMAND_INVALID: configuration("The command's arguments are missing or wrong.", "Give them as the message shows."),
  OFFSETS_INVALID: configuration("Offsets to set do not parse or do not fit the connector.", "Give them as the message shows."),
  VERIFY_TABLE_MISSING: configuration("`liberator verify` was to compare a table or topic that does not exist.", "Check the connectors' tables and topics; run verify once the sink has created its table."),
  VERIFY_KEY_MISSING: configuration("`liberator verify` has no key to compare a table's rows by: the sink table lacks a key column.", "Give the sink table the source's key columns, or set the source's `keyColumns`."),
  STREAM_NOT_FOUND: configuration("No connector wrote that stream and the config does not declare it.", "`GET /streams` lists them."),

  // ── internal ──────────────────────────────────────────────────────────────────────────────────
  KAFKA_ERROR: internal("Kafka failed in a way Liberator does not classify.", "Read the message; the worker restarts the connector with a long backoff."),
  INTERNAL: internal(
    "A failure nothing classified.",
    "Read the message and the log line with its stack; the worker restarts a connector failed with it, with a long backoff. Report it if it repeats.",
  ),
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The codes as constants: `ErrorCode.SINK_TABLE_MISSING`. */
export const ErrorCode = Object.freeze(Object.fromEntries(Object.keys(ERROR_CATALOGUE).map((code) => [code, code]))) as { readonly [C in ErrorCode]: C };

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CATALOGUE, code);
}
