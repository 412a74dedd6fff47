/**
 * Value generators every oracle table draws from, whatever its database: integers, decimals, text
 * with 4-byte UTF-8, JSON, byte strings, calendar days and clocks. Each returns the value (or its
 * digits); the database's own module turns it into a literal of its dialect.
 */
import type { Random } from "./random.js";

/** Text that has broken decoders before: quotes, escapes, NUL, combining marks, 4-byte characters, a BOM. */
export const TEXTS = ["", " ", "a", "It's", "back\\slash", "tab\tnew\nline", "\u0000NUL", "é", "ünïcödé", "日本語", "😀", "𝄞", "𠜎", "🏳️‍🌈", "e\u0301", "\uFEFF", "Zoë 😀 𠜎", "\u{10FFFF}", " trailing "];

/** Up to `max` characters (code points); without NUL where the database cannot hold one (PostgreSQL). */
export function text(r: Random, max: number, nul = true): string {
  const pieces = nul ? TEXTS : TEXTS_WITHOUT_NUL;
  let s = "";
  const n = r.int(0, max);
  while ([...s].length < n) s += r.chance(0.5) ? r.pick(pieces) : String.fromCodePoint(r.chance(0.8) ? r.int(0x20, 0x7e) : r.int(0xa0, 0xd7ff));
  return [...s].slice(0, max).join("");
}
const TEXTS_WITHOUT_NUL = TEXTS.map((t) => t.split("\u0000").join(""));

/** A JSON document: nested arrays and objects, numbers of every size, escapes (`\u0000` too when `nul`). */
export function json(r: Random, nul = true, depth = 0): string {
  const pieces = nul ? TEXTS : TEXTS_WITHOUT_NUL;
  const choice = r.int(0, depth > 2 ? 3 : 5);
  if (choice === 0) return JSON.stringify(text(r, 10, nul));
  if (choice === 1) return String(r.chance(0.5) ? r.int(-1e9, 1e9) : (r.next() - 0.5) * 10 ** r.int(-5, 20));
  if (choice === 2) return r.pick(["true", "false", "null"]);
  if (choice === 3) return JSON.stringify(r.pick(pieces));
  if (choice === 4) return `[${Array.from({ length: r.int(0, 4) }, () => json(r, nul, depth + 1)).join(", ")}]`;
  return `{${Array.from({ length: r.int(0, 4) }, (_, i) => `${JSON.stringify(`k${i}${r.pick(pieces)}`)}: ${json(r, nul, depth + 1)}`).join(", ")}}`;
}

/** An integer type's edges and generator, as decimal text. */
export function integers(min: bigint, max: bigint): { edges: string[]; generate(r: Random): string } {
  return {
    edges: [min, max, 0n, 1n, min + 1n, max - 1n, ...(min < 0n ? [-1n] : [])].map(String),
    generate: (r) => String(r.chance(0.3) ? r.big(min > -1000n ? min : -1000n, max < 1000n ? max : 1000n) : r.big(min, max)),
  };
}

/** A DECIMAL(p,s)'s edges (largest, smallest step, zero) and generator of every digit count, as decimal text. */
export function decimals(p: number, s: number, unsigned = false): { edges: string[]; generate(r: Random): string } {
  const whole = p - s;
  const max = `${"9".repeat(whole) || "0"}${s > 0 ? `.${"9".repeat(s)}` : ""}`;
  const tiny = s > 0 ? `0.${"0".repeat(s - 1)}1` : "1";
  return {
    edges: [max, tiny, "0", ...(unsigned ? [] : [`-${max}`, `-${tiny}`])],
    generate: (r) => {
      const w = r.digits(r.int(0, whole)) || "0";
      const f = s > 0 ? `.${r.digits(r.int(1, s))}` : "";
      return `${!unsigned && r.chance(0.5) ? "-" : ""}${w}${f}`;
    },
  };
}

/** Every byte value once, in order. */
export const EVERY_BYTE = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
/** Byte strings that are not UTF-8: overlong, surrogates, lone continuations, 0xFF. */
export const NOT_UTF8 = ["c080", "eda080", "80", "ff", "f4908080", "c3"].map((h) => Buffer.from(h, "hex"));

const DAYS_IN = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
export const p2 = (n: number) => String(n).padStart(2, "0");
export const p4 = (n: number) => String(n).padStart(4, "0");

/** A valid calendar day of a year in [from, to]: its year, month and day. */
export function calendarDay(r: Random, from: number, to: number): { y: number; m: number; d: number } {
  const m = r.int(1, 12);
  const y = r.int(from, to);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return { y, m, d: r.int(1, m === 2 && !leap ? 28 : DAYS_IN[m - 1]!) };
}

/** "YYYY-MM-DD" of a year in [from, 9999]. */
export function day(r: Random, from = 1000): string {
  const { y, m, d } = calendarDay(r, from, 9999);
  return `${p4(y)}-${p2(m)}-${p2(d)}`;
}

/** "", or a fraction of `fsp` digits (most of the time). */
export const fraction = (r: Random, fsp: number) => (fsp > 0 && r.chance(0.9) ? `.${r.digits(fsp)}` : "");
/** A time of day "HH:MM:SS[.f]" with up to `fsp` fraction digits. */
export const clock = (r: Random, fsp: number) => `${p2(r.int(0, 23))}:${p2(r.int(0, 59))}:${p2(r.int(0, 59))}${fraction(r, fsp)}`;
/** The largest fraction of `fsp` digits: ".999". */
export const nines = (fsp: number) => (fsp > 0 ? `.${"9".repeat(fsp)}` : "");
