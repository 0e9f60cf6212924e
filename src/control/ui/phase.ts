/**
 * Where an enforcement window stands at an instant, in the words the dashboard and the
 * self-check page use ("blocks in 12 days", "blocking since 2024-07-09").
 */
import { boundText, type CompiledWindow } from "../../policy/compile";

export const DAY_MS = 86_400_000;

/** The decision an unsupported region gets now (SPEC section 3), before mode and exemptions. */
export type Phase = "observe" | "warn" | "block";

export interface PhaseView {
  phase: Phase;
  /** RFC 3339, `null` when the bound is absent, `"always"` for "since forever". */
  warnFrom: string | null;
  blockFrom: string | null;
  /** Whole days until `blockFrom` (rounded up), when it lies ahead. */
  blocksInDays: number | null;
  /** One phrase: "blocks in 12 days (2024-07-09)", "blocking since 2024-07-09", "never blocks". */
  summary: string;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The phase of `window` at `now`: before `warnFrom` observe, from `warnFrom` warn, from
 * `blockFrom` block; `blockFrom: null` never blocks.
 *
 * @example phaseAt({ warnFrom: null, blockFrom: Date.parse("2024-07-09T00:00:00Z"), source: "" },
 *   Date.parse("2024-07-01T00:00:00Z")).summary // "blocks in 8 days (2024-07-09)"
 */
export function phaseAt(window: CompiledWindow, now: number): PhaseView {
  const { warnFrom, blockFrom } = window;
  const base = { warnFrom: boundText(warnFrom), blockFrom: boundText(blockFrom) };
  if (blockFrom !== null && now >= blockFrom) {
    const summary = Number.isFinite(blockFrom)
      ? `blocking since ${day(blockFrom)}`
      : "blocking (no enforcement dates)";
    return { ...base, phase: "block", blocksInDays: null, summary };
  }
  const phase: Phase = warnFrom !== null && now >= warnFrom ? "warn" : "observe";
  if (blockFrom === null) return { ...base, phase, blocksInDays: null, summary: "never blocks" };
  const days = Math.ceil((blockFrom - now) / DAY_MS);
  const summary = `blocks in ${days} day${days === 1 ? "" : "s"} (${day(blockFrom)})`;
  return { ...base, phase, blocksInDays: days, summary };
}

/** An instant for people: `2024-07-09` at midnight UTC, else `2024-07-09 14:30:12 UTC`; null → "—". */
export function readableInstant(text: string | null): string {
  if (text === null) return "—";
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return text;
  const iso = new Date(text).toISOString();
  return iso.slice(11, 19) === "00:00:00" ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}
