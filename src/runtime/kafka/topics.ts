/**
 * The topics a sink reads: names, and patterns with `*` (`shop.*`). Kafka refuses `*` in a topic
 * name, so an entry holding one can only be a pattern. A pattern's `*` matches any run of
 * characters, dots included; it never matches an internal topic (a leading `_`: offsets, schemas,
 * dead letters) unless the pattern itself starts with `_`.
 */
import type { Admin } from "kafkajs";

export const isTopicPattern = (entry: string): boolean => entry.includes("*");

function patternRegex(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
}

/** Whether a topic is one of `entries`, by name or by pattern. */
export function topicMatcher(entries: readonly string[]): (topic: string) => boolean {
  const names = new Set(entries.filter((e) => !isTopicPattern(e)));
  const patterns = entries.filter(isTopicPattern).map((p) => ({ regex: patternRegex(p), internal: p.startsWith("_") }));
  return (topic) => names.has(topic) || patterns.some((p) => (p.internal || !topic.startsWith("_")) && p.regex.test(topic));
}

export interface ResolvedTopics {
  /** Existing topics the entries name or match, sorted. */
  topics: string[];
  /** Entries with no topic yet: names that do not exist, patterns that match none. */
  missing: string[];
}

/** The entries against the topics that exist now. */
export function resolveTopics(entries: readonly string[], existing: Iterable<string>): ResolvedTopics {
  const all = [...existing];
  const matches = topicMatcher(entries);
  const topics = all.filter(matches).sort();
  const missing = entries.filter((e) => (isTopicPattern(e) ? !topics.some(topicMatcher([e])) : !all.includes(e)));
  return { topics, missing };
}

export async function listResolvedTopics(admin: Admin, entries: readonly string[]): Promise<ResolvedTopics> {
  return resolveTopics(entries, await admin.listTopics());
}
