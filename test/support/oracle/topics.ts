/**
 * How the oracle tests name what they produce: every connector is `oracle_<path>_<unique>`, so
 * every oracle topic starts with `oracle_` (`oracle_binlog_….<db>.<table>`, `oracle_query_…`),
 * for a second decoder (the Java judge) to find and read them all.
 */
import { uniqueName } from "../../harness/index.js";

export const ORACLE_TOPIC_PREFIX = "oracle_";

export const oracleConnectorName = (path: string) => uniqueName(`${ORACLE_TOPIC_PREFIX}${path}`);
