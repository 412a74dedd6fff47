import { ErrorCode } from "../error-catalogue.js";
import { isNetworkError } from "../net-errors.js";
import { classifyTlsError } from "../tls.js";

/** Protocol error types (kafkajs's `type`, Kafka's names) that pass: retry once the cluster has settled. */
const TRANSIENT_TYPES = new Set([
  "BROKER_NOT_AVAILABLE",
  "LEADER_NOT_AVAILABLE",
  "NOT_LEADER_FOR_PARTITION",
  "NOT_LEADER_OR_FOLLOWER",
  "REPLICA_NOT_AVAILABLE",
  "FENCED_LEADER_EPOCH",
  "UNKNOWN_LEADER_EPOCH",
  "NOT_CONTROLLER",
  "COORDINATOR_NOT_AVAILABLE",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "NOT_COORDINATOR",
  "NOT_COORDINATOR_FOR_GROUP",
  "COORDINATOR_LOAD_IN_PROGRESS",
  "GROUP_LOAD_IN_PROGRESS",
  "REQUEST_TIMED_OUT",
  "NETWORK_EXCEPTION",
  "NOT_ENOUGH_REPLICAS",
  "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
  "KAFKA_STORAGE_ERROR",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "OFFSET_NOT_AVAILABLE",
  "UNSTABLE_OFFSET_COMMIT",
  "THROTTLING_QUOTA_EXCEEDED",
  "CONCURRENT_TRANSACTIONS",
  "REBALANCE_IN_PROGRESS",
  "UNKNOWN_MEMBER_ID",
  "ILLEGAL_GENERATION",
  "FETCH_SESSION_ID_NOT_FOUND",
  "INVALID_FETCH_SESSION_EPOCH",
  // a transactional producer that met these is rebuilt with the pipeline, which clears them
  "INVALID_TXN_STATE",
  "UNKNOWN_PRODUCER_ID",
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "TRANSACTION_COORDINATOR_FENCED",
]);

/** Error classes kafkajs throws when a broker is out of reach or not ready. */
const TRANSIENT_NAMES = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNoBrokerAvailableError",
  "KafkaJSMetadataNotLoaded",
  "KafkaJSTopicMetadataNotLoaded",
  "KafkaJSStaleTopicMetadataAssignment",
  "KafkaJSGroupCoordinatorNotFound",
  "KafkaJSFetcherRebalanceError",
  "KafkaJSTimeout",
  "KafkaJSLockTimeout",
]);

const FENCING_TYPES = new Set(["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"]);
const RECORD_TYPES = new Set(["MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE", "CORRUPT_MESSAGE", "INVALID_RECORD"]);

/** kafkajs's wording where it dropped the cause (a state machine after a failure, a closed socket). */
const TRANSIENT_TEXT = /Connection error|Connection timeout|ECONNREFUSED|ECONNRESET|Closed connection|Request .* timed out|Transaction state exception|broker.*not (?:available|connected)/i;

interface KafkaLike {
  name?: unknown;
  type?: unknown;
  message?: unknown;
  retriable?: unknown;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown;
}

/** The error and everything it wraps: kafkajs nests the failure that counts under `cause` (and aggregates under `errors`). */
function chain(err: unknown): KafkaLike[] {
  const out: KafkaLike[] = [];
  const todo: unknown[] = [err];
  while (todo.length > 0 && out.length < 32) {
    const e = todo.shift();
    if (e === null || typeof e !== "object") continue;
    const k = e as KafkaLike;
    if (out.includes(k)) continue;
    out.push(k);
    todo.push(k.cause, k.originalError);
    if (Array.isArray(k.errors)) todo.push(...(k.errors as unknown[]));
  }
  return out;
}

export function isKafkaError(err: unknown): boolean {
  return chain(err).some((e) => typeof e.name === "string" && e.name.startsWith("KafkaJS"));
}

/**
 * What a kafkajs error is, by its cause rather than its wrapper: kafkajs wraps a connection error
 * whose retries ran out as "non-retriable", which is its own last word, not ours. The one place that
 * reads kafkajs error names and Kafka protocol error types.
 */
export function classifyKafkaError(err: unknown): ErrorCode {
  const all = chain(err);
  const types = new Set(all.map((e) => e.type).filter((t): t is string => typeof t === "string"));
  const has = (set: ReadonlySet<string>) => [...types].some((t) => set.has(t));
  if (has(FENCING_TYPES)) return ErrorCode.FENCED;
  // a refused certificate comes wrapped as a connection error, which would be retried for ever
  if (all.some((e) => classifyTlsError(e) !== undefined)) return ErrorCode.KAFKA_TLS_FAILED;
  if (all.some((e) => e.name === "KafkaJSSASLAuthenticationError") || types.has("SASL_AUTHENTICATION_FAILED")) return ErrorCode.KAFKA_AUTH_FAILED;
  if ([...types].some((t) => t.endsWith("_AUTHORIZATION_FAILED"))) return ErrorCode.KAFKA_NOT_AUTHORIZED;
  if (has(RECORD_TYPES)) return ErrorCode.KAFKA_RECORD_REJECTED;
  if (has(TRANSIENT_TYPES)) return ErrorCode.KAFKA_UNAVAILABLE;
  if (all.some((e) => (typeof e.name === "string" && TRANSIENT_NAMES.has(e.name)) || isNetworkError(e))) return ErrorCode.KAFKA_UNAVAILABLE;
  // kafkajs's own flag on any error inside: its wrappers say false once their own retries are spent
  if (all.some((e) => e.retriable === true)) return ErrorCode.KAFKA_UNAVAILABLE;
  if (all.some((e) => typeof e.message === "string" && TRANSIENT_TEXT.test(e.message))) return ErrorCode.KAFKA_UNAVAILABLE;
  return ErrorCode.KAFKA_ERROR;
}
