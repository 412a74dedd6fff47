import { describe, expect, it } from "vitest";
import { ChunkSize } from "../../../src/runtime/db/row-bytes.js";

const MB = 1024 * 1024;
const rowsOf = (n: number, text: number) => Array.from({ length: n }, (_, id) => ({ id, body: "x".repeat(text) }));

describe("snapshot chunk size", () => {
  it("probes a table with at most 100 rows, then reads chunkSize rows of narrow rows", () => {
    const size = new ChunkSize(10_000, 8 * MB, 0);
    expect(size.rows()).toBe(100);
    size.read(rowsOf(100, 50));
    expect(size.rows()).toBe(10_000);
  });

  it("keeps a chunk of wide rows near maxBytes, as the rows of the chunk before it measure", () => {
    const size = new ChunkSize(10_000, 8 * MB, 0);
    size.read(rowsOf(100, 4088));
    // 4,096 bytes a row (8 for the id): 2,048 rows make 8 MB
    expect(size.rows()).toBe(2048);
    // a little wider: the power of two below, so the chunk's prepared statement stays the same
    size.read(rowsOf(100, 4100));
    expect(size.rows()).toBe(1024);
  });

  it("takes the server's average row length for the first chunk when it asks for fewer than the probe", () => {
    expect(new ChunkSize(10_000, 1 * MB, 64 * 1024).rows()).toBe(16);
    expect(new ChunkSize(10_000, 8 * MB, 200).rows()).toBe(100);
  });

  it("reads at least one row, however wide, and never more than chunkSize", () => {
    const size = new ChunkSize(50, 1 * MB, 0);
    size.read(rowsOf(1, 4 * MB));
    expect(size.rows()).toBe(1);
    size.read(rowsOf(10, 10));
    expect(size.rows()).toBe(50);
  });

  it("keeps its measure when a chunk comes back empty", () => {
    const size = new ChunkSize(10_000, 8 * MB, 0);
    size.read(rowsOf(10, 8 * 1024 - 8));
    size.read([]);
    expect(size.rows()).toBe(1024);
  });
});
