/**
 * What a pipeline is given: the control of the runner that drives it, and the services the worker
 * shares between pipelines. Pipelines, the runner and the worker all depend on these types; the
 * types depend on none of them.
 */
import type { Kafka } from "kafkajs";
import type { ConnectorStatus, Json, Position, TaskRef } from "../connector.js";
import type { ConnectorConfig } from "../config/load.js";
import type { RootConfig } from "../config/schema.js";
import type { SourceGovernance } from "../governance/source-governance.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { SourceOffsetStore } from "../offsets/source-offsets.js";
import type { SchemaService } from "../schema-registry/index.js";

export type PipelineEnd = "stopped" | "finished";

/** What a pipeline gets from the runner that drives it. */
export interface PipelineControl {
  /** The task of the connector this pipeline runs. */
  task: TaskRef;
  signal: AbortSignal;
  paused(): boolean;
  whenResumed(): Promise<void>;
  /** `live` is the opened source or sink: its status and operator commands reach the admin API. */
  onOpened(position: Position | null, live?: LiveConnector): void;
  /** Open, but with nothing to read yet (a sink whose topics do not exist): no failure, no retry. */
  onWaiting(): void;
  onCommitted(position: Position, records: number): void;
  /**
   * A read or write failed and is tried again inside the pipeline after `delayMs`: the connector is
   * `retrying` from this first failure, not from when the pipeline gives up; the next commit ends it.
   */
  onRetry(error: unknown, attempt: number, delayMs: number): void;
}

/** What a running source or sink exposes to operators. */
export interface LiveConnector {
  status?(): ConnectorStatus;
  command?(name: string, args: Record<string, Json>): Promise<Json>;
}

export type PipelineLauncher = (connector: ConnectorConfig, control: PipelineControl) => Promise<PipelineEnd>;

export type SchemaServiceFactory = (root: RootConfig, deps: { kafka: Kafka; log: Logger }) => Promise<SchemaService>;

/** What pipelines share inside one worker process. */
export interface WorkerServices {
  readonly root: RootConfig;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** A Kafka client of the connector's own, so its connections are not shared. */
  kafkaFor(connector: string): Kafka;
  schemas(): Promise<SchemaService>;
  sourceOffsets(): Promise<SourceOffsetStore>;
  ensureTopics(topics: string[]): Promise<void>;
  /** Stream metadata and PII handling for a source's records; undefined without governance. */
  sourceGovernance(connector: ConnectorConfig): SourceGovernance | undefined;
}
