import { ConnectionError, ErrorCode, type LiberatorError, PreconditionError } from "../errors.js";
import { classifyTlsError, TLS_FAILURE_TEXT, tlsFix } from "../tls.js";

/**
 * A client that could not connect to Kafka: transient (the brokers may come back) unless the TLS
 * handshake refused the brokers' certificate, which only a change of config or certificate mends.
 */
export function describeKafkaConnectError(err: unknown, fix: string): LiberatorError {
  const message = (err as Error).message;
  const tls = classifyTlsError(err);
  if (tls) {
    return new PreconditionError(ErrorCode.KAFKA_TLS_FAILED, `cannot connect to Kafka over TLS: ${TLS_FAILURE_TEXT[tls]} (${message})`, {
      cause: err,
      fix: tlsFix(tls, "kafka.ssl", "kafka.brokers"),
    });
  }
  return new ConnectionError(`cannot reach Kafka: ${message}`, { cause: err, fix });
}
