/**
 * The decisions the ledger counts, in a module without worker types, so the CLI and the
 * Node tests can share them (and the notice code) with the worker.
 */
import type { Decision } from "./decision";

/** Decisions the ledger counts (SPEC section 6), in report column order. */
export const LEDGER_DECISIONS = ["observe", "warn", "block", "monitor", "exempt"] as const;
export type LedgerDecision = (typeof LEDGER_DECISIONS)[number];

export const isLedgerDecision = (d: Decision | string): d is LedgerDecision =>
  (LEDGER_DECISIONS as readonly string[]).includes(d);
