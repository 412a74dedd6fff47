/**
 * Connector specs: type name, config schema, factory. The runtime reaches connectors only through
 * here; `src/connectors.ts` registers the built-in ones (Benthos keeps spec, constructor and
 * registration together for the same reason: docs and validation come from one place).
 */
import type { z } from "zod";
import type { Sink, SinkContext, Source, SourceContext, AvroSchema, Position } from "./connector.js";
import type { Logger } from "./log.js";

export interface PreflightCheck {
  /** Short name, e.g. "binlog_format". */
  check: string;
  ok: boolean;
  /** Warnings are printed but do not fail `liberator validate`. */
  severity?: "error" | "warning";
  message: string;
  /** The statement, my.cnf line or config change that fixes it. */
  fix?: string;
}

export interface PreflightContext {
  readonly connector: string;
  readonly log: Logger;
}

/** A stream a connector would write, as it is now: what `liberator schemas check` compares. */
export interface StreamDescription {
  topic: string;
  keySchema: AvroSchema | null;
  valueSchema: AvroSchema;
}

interface SpecBase<C> {
  type: string;
  /** One line for `liberator --help` and the README. */
  summary: string;
  /** Type-specific fields; the common ones (name, type, errors…) are added by the runtime. */
  config: z.ZodType<C>;
  preflight?(config: C, ctx: PreflightContext): Promise<PreflightCheck[]>;
}

export interface SourceSpec<C = unknown> extends SpecBase<C> {
  kind: "source";
  create(config: C, ctx: SourceContext): Source;
  /**
   * How many tasks `tasks: auto` makes of this config (one per table, say). A source type without
   * it runs as one task: it has no way to share its work, and `tasks` other than 1 is refused.
   */
  autoTasks?(config: C): number;
  /**
   * A source with autoTasks: one task's position out of every position the connector's tasks have
   * stored (under `<name>` and `<name>#<i>/<N>…`, of any generation it ran as), oldest write first, so
   * a change of `tasks` finds each part of the work (a table) where its last owner left it.
   */
  mergePositions?: (positions: Position[]) => Position;
  /**
   * A source with autoTasks: what decides which task reads what besides the count (the streams, in
   * order). When it changes at the same count, the tasks are a new generation (tasks.ts).
   */
  splitOf?(config: C): string;
  /** The streams as the source database is now (for `schemas check`). */
  describeStreams?(config: C, ctx: PreflightContext): Promise<StreamDescription[]>;
  /**
   * Its reads may be gathered: each batch ends on a source transaction, and acking a position acks
   * every earlier one. The runtime then reads it a little at a time and serializes each read at
   * once, gathering reads into one Kafka transaction up to the batch limits (source-pipeline.ts).
   */
  gathersReads?: true;
}

export interface SinkSpec<C = unknown> extends SpecBase<C> {
  kind: "sink";
  create(config: C, ctx: SinkContext): Sink;
  /** Topics the sink reads, from its config. */
  topics(config: C): string[];
}

export type ConnectorSpec<C = unknown> = SourceSpec<C> | SinkSpec<C>;

const specs = new Map<string, ConnectorSpec>();

export function registerConnector<C>(spec: ConnectorSpec<C>): void {
  if (specs.has(spec.type)) throw new Error(`connector type "${spec.type}" is registered twice`);
  specs.set(spec.type, spec);
}

export function connectorSpec(type: string): ConnectorSpec | undefined {
  return specs.get(type);
}

export function connectorTypes(): string[] {
  return [...specs.keys()].sort();
}
