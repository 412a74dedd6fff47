/**
 * The layer rules of the design (DESIGN.md §2, "Rules of the house"), checked on every `npm run lint`.
 * Paths are relative to the folder cruised from, so test/unit/architecture runs the same rules on
 * a fixture tree that breaks each of them.
 */
const CONNECTORS = "^src/(sources|sinks)/";
const DATABASE_DRIVERS = "node_modules/(pg|pg-[a-z-]+|@types/pg|mysql2|@vlasky/zongji)/";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycle",
      comment: "No import cycle between files: types live with the code that owns them.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "source-imports-other-connector",
      comment: "A connector never imports another connector; shared code moves down into runtime/.",
      severity: "error",
      from: { path: "^src/sources/([^/]+)/" },
      to: { path: CONNECTORS, pathNot: "^src/sources/$1/" },
    },
    {
      name: "sink-imports-other-connector",
      comment: "A connector never imports another connector; shared code moves down into runtime/.",
      severity: "error",
      from: { path: "^src/sinks/([^/]+)/" },
      to: { path: CONNECTORS, pathNot: "^src/sinks/$1/" },
    },
    {
      name: "runtime-imports-connector",
      comment: "The runtime reaches connectors only through the registry of specs.",
      severity: "error",
      from: { path: "^src/runtime/" },
      to: { path: CONNECTORS },
    },
    {
      name: "connector-imported-outside-catalogue",
      comment:
        "Only the catalogue of connectors (src/connectors.ts) imports them; besides it, the outbox's app-side helper and the CLI commands that are one connector's own tools (outbox, verify).",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/(sources|sinks)/", "^src/connectors\\.ts$", "^src/outbox\\.ts$", "^src/commands/(outbox|verify)\\.ts$"] },
      to: { path: CONNECTORS },
    },
    {
      name: "connector-reaches-kafka-cluster-or-http",
      comment: "A connector does not know how it was assigned, serves no HTTP and produces nothing itself: it hands records to the pipeline.",
      severity: "error",
      from: { path: CONNECTORS },
      to: {
        path: ["^src/runtime/(cluster|http|pipeline|kafka)/", "^src/runtime/(worker|connector-runner|control)\\.ts$", "node_modules/(kafkajs|fastify)/"],
        // a dead letter's message shape: the outbox source hands dead letters to its pipeline as records
        pathNot: "^src/runtime/kafka/dead-letter\\.ts$",
      },
    },
    {
      name: "kafka-or-avro-knows-a-database",
      comment: "runtime/kafka and the Avro side of the schema layer know no database: that is runtime/db and runtime/sql-types.",
      severity: "error",
      from: { path: "^src/runtime/(kafka|avro|schema-registry)/" },
      to: { path: ["^src/runtime/(db|sql-types)/", DATABASE_DRIVERS] },
    },
    {
      name: "schema-layer-serves-http",
      comment: "The schema layer serves no HTTP: the admin API calls it.",
      severity: "error",
      from: { path: "^src/runtime/(avro|schema-registry|sql-types)/" },
      to: { path: ["^src/runtime/http/", "node_modules/fastify/"] },
    },
    {
      name: "lifecycle-depends-on-admin-api",
      comment: "Lifecycle code depends on no part of the admin API.",
      severity: "error",
      from: { path: "^src/runtime/(worker|connector-runner|connector-state|control|metrics)\\.ts$|^src/runtime/(pipeline|cluster|offsets)/" },
      to: { path: ["^src/runtime/http/", "node_modules/fastify/"] },
    },
    {
      name: "connects-outside-db-layer",
      comment:
        "One database layer (runtime/db) connects, with the read options and the error wording every connector shares; others may name the drivers' types. The binlog protocol client (zongji) is the binlog source's own.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/runtime/db/" },
      to: { path: "node_modules/(pg|pg-[a-z-]+|mysql2)/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "runtime-imports-commands",
      comment: "The runtime is used by the CLI, never the reverse.",
      severity: "error",
      from: { path: "^src/runtime/" },
      to: { path: "^src/(commands/|cli\\.ts$)" },
    },
    {
      name: "src-imports-tests",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|bench)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // type-only imports count: a cycle through types is still a cycle
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"], extensions: [".ts", ".js"] },
  },
};
