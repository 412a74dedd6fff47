/** The states a connector's runner moves through; metrics, status and governance read them. */
export const CONNECTOR_STATES = ["starting", "waiting", "running", "paused", "retrying", "stopping", "stopped", "failed", "finished"] as const;
export type ConnectorState = (typeof CONNECTOR_STATES)[number];
