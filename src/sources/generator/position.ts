import type { Position } from "../../runtime/connector.js";
import { DataError, ErrorCode } from "../../runtime/errors.js";

/** How many records the generator has produced and committed so far. */
export interface GeneratorPosition {
  seq: number;
}

export function parsePosition(position: Position | null): GeneratorPosition {
  if (position === null) return { seq: 0 };
  if (typeof position === "object" && !Array.isArray(position) && typeof position.seq === "number") return { seq: position.seq };
  throw new DataError(ErrorCode.POSITION_INVALID, `unreadable generator position ${JSON.stringify(position)}`, {
    fix: "reset it with `liberator offsets reset --connector <name>`",
  });
}
