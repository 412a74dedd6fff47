/**
 * A reader of the admin API's `/status/stream` (server-sent events), for `liberator status --watch`.
 * fetch, not EventSource: it sends the bearer token as a header.
 */
import type { StatusDocument } from "../runtime/control.js";

/** Calls `onDocument` with each document until the stream ends or `signal` aborts. */
export async function followStatus(url: string, headers: Record<string, string>, onDocument: (doc: StatusDocument) => void, signal: AbortSignal): Promise<void> {
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal });
  if (!res.ok || !res.body) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const bytes of res.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(bytes, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const data = buffer
          .slice(0, end)
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).trimStart())
          .join("\n");
        buffer = buffer.slice(end + 2);
        if (data) onDocument(JSON.parse(data) as StatusDocument);
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}
