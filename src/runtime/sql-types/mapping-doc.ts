/**
 * The README's type table, generated from MAPPING (scripts/update-docs.ts writes it, a unit test
 * checks it): for each source column type, its Avro type, the column the sql sink creates for it
 * on PostgreSQL and on MariaDB (to-sql.ts), and the values such a column cannot hold (domains.ts).
 */
import { columnDomain, fieldDomain, gaps } from "./domains.js";
import { MAPPING, mapColumn, type Dialect, type MappingRule } from "./mapping.js";
import { avroToSqlType } from "./to-sql.js";

const TARGETS: readonly Dialect[] = ["postgres", "mysql"];

/** The column the sql sink creates on `target` for a column of this row, and what it cannot hold. */
export function targetColumn(rule: MappingRule, target: Dialect): string {
  const column = { name: "c", dialect: rule.dialect, nullable: false, sqlType: rule.example?.sqlType ?? rule.sql[0]!, enumValues: rule.example?.enumValues };
  const { field } = mapColumn(column);
  const type = avroToSqlType(field, target).replace(/ NOT NULL$/, "");
  const missing = gaps(fieldDomain(field)!, columnDomain({ sqlType: type, dialect: target })!);
  const shown = target === rule.dialect && type === column.sqlType ? "the source's type" : type;
  // a row that carries one of these is refused when it comes, never changed (docs/sinks.md)
  return missing.length === 0 ? shown : `${shown} (cannot hold ${missing.map((g) => g.values).join(", ")})`;
}

/** The table as Markdown, for the README. */
export function mappingMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  const rows = MAPPING.map((r) => {
    const sql = r.sql.map((s) => s.toUpperCase()).join(", ") + (r.when ? ` ${r.when}` : "");
    const cells = [sql, r.avro, ...TARGETS.map((t) => targetColumn(r, t)), r.js, r.notes ?? ""];
    return `| ${r.dialect === "mysql" ? "MySQL/MariaDB" : "PostgreSQL"} | ${cells.map(cell).join(" | ")} |`;
  });
  return [
    "| Database | Column type | Avro | PostgreSQL column (sql sink) | MariaDB column (sql sink) | JS value | Notes |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "| both | any type, NULL allowed | union [null, T], default null | NULL allowed | NULL allowed | null or T's value | |",
  ].join("\n");
}
