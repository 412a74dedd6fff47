import { describe, expect, it } from "vitest";
import { civilFromDays, dateText, dateTimeText, decimalText, durationText, sixDigits, unscaled } from "../../support/oracle/avro.js";
import { MARIADB_TABLES } from "../../support/oracle/mariadb.js";
import { literalRows } from "../../support/oracle/rows.js";
import { random } from "../../support/oracle/random.js";

const columns = Object.values(MARIADB_TABLES).flat();

describe("the oracle's seeded values", () => {
  it("are the same for the same seed, and differ for another", () => {
    const a = literalRows(random(42), columns, 1, 50);
    expect(literalRows(random(42), columns, 1, 50)).toEqual(a);
    expect(literalRows(random(43), columns, 1, 50)).not.toEqual(a);
  });

  it("give every column its edges, a NULL row and at least the asked number of generated values", () => {
    const rows = literalRows(random(7), columns, 1);
    columns.forEach((c, i) => {
      const values = rows.map((r) => r.values[i]!);
      for (const edge of c.edges) expect(values, c.name).toContain(edge);
      const edges = Math.max(...columns.map((x) => x.edges.length));
      expect(values.slice(edges + 1).filter((v) => v !== "NULL").length, c.name).toBeGreaterThanOrEqual(2000);
    });
    expect(rows.some((r) => r.values.every((v) => v === "NULL"))).toBe(true);
  });

  it("cover what issue 15 found: YEAR 0, 1901 and 2155; negative whole-second TIME; n/7 DOUBLEs; zero and partial-zero dates; every fraction precision", () => {
    const byName = new Map(columns.map((c) => [c.name, c]));
    expect(byName.get("y")!.edges).toEqual(expect.arrayContaining(["0", "1901", "2155"]));
    expect(byName.get("t0")!.edges).toEqual(expect.arrayContaining(["'-00:01:00'", "'-01:00:00'", "'-10:00:00'", "'-01:01:00'"]));
    expect(byName.get("d")!.edges).toEqual(expect.arrayContaining(["'0000-00-00'", "'2020-00-15'", "'2020-01-00'"]));
    for (const fsp of [0, 1, 2, 3, 4, 5, 6]) for (const kind of ["dt", "ts", "t"]) expect(byName.has(`${kind}${fsp}`), `${kind}${fsp}`).toBe(true);
    const r = random(1);
    expect(Array.from({ length: 50 }, () => byName.get("dbl")!.generate(r)).filter((v) => v.endsWith("/ 7")).length).toBeGreaterThan(10);
    expect(byName.get("vb")!.edges).toContain(`X'${Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString("hex")}'`);
  });

  it("generate DECIMALs within their precision and scale", () => {
    const r = random(3);
    for (const c of columns.filter((x) => x.kind === "decimal")) {
      const [p, s] = /DECIMAL\((\d+),(\d+)\)/.exec(c.ddl)!.slice(1).map(Number) as [number, number];
      for (let i = 0; i < 200; i++) {
        const [whole, fraction = ""] = c.generate(r).replace("-", "").split(".");
        expect(whole!.replace(/^0+(?=\d)/, "").length, c.name).toBeLessThanOrEqual(Math.max(p - s, 1));
        expect(fraction.length, c.name).toBeLessThanOrEqual(s);
      }
    }
  });
});

describe("the oracle's renderings of raw Avro values", () => {
  it("print dates of any year as SQL does", () => {
    expect(dateText(0)).toBe("1970-01-01");
    expect(dateText(-719162)).toBe("0001-01-01");
    expect(dateText(2932896)).toBe("9999-12-31");
    expect(civilFromDays(19782)).toEqual({ y: 2024, m: 2, d: 29 });
    expect(dateTimeText(253402300799999999n)).toBe("9999-12-31 23:59:59.999999");
    expect(dateTimeText(-1n)).toBe("1969-12-31 23:59:59.999999");
  });

  it("print durations, decimals and two's complement as SQL does", () => {
    expect(durationText(-3020399000000n)).toBe("-838:59:59.000000");
    expect(durationText(-1n)).toBe("-00:00:00.000001");
    expect(durationText(60_000_000n)).toBe("00:01:00.000000");
    expect(decimalText(-5n, 4)).toBe("-0.0005");
    expect(decimalText(12345n, 0)).toBe("12345");
    expect(unscaled(Buffer.from([0xff]))).toBe(-1n);
    expect(unscaled(Buffer.from([0x00, 0xff]))).toBe(255n);
    expect(sixDigits("10:00:00")).toBe("10:00:00.000000");
    expect(sixDigits("2020-01-01 10:00:00.5")).toBe("2020-01-01 10:00:00.500000");
  });
});
