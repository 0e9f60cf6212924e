/**
 * Ledger reads for notices: whole customers per page, so a notice is never split across
 * pages, and one fingerprint's rows for the customer's own view in `/check`.
 */

import type { LedgerCappedDay, LedgerFilter, LedgerGroup, RowKey } from "../../exposure/wire";
import { base64url, fromBase64url } from "../../platform/base64url";
import type { ControlEnv } from "../../platform/config";
import { readFingerprintGroups, readGroupPage } from "../ledger/client";
import { keyOf } from "../ledger/report";

/** Rows asked of the ledger per read while a page of customers is gathered. */
const ROWS_PER_READ = 1000;
/** Sorts after every identity: a key that skips all rows of a fingerprint. */
const AFTER_ALL = "\u{10FFFF}";

/** Notices per page by default and at most. */
export const NOTICES_DEFAULT_LIMIT = 100;
export const NOTICES_MAX_LIMIT = 1000;

/** A page of whole customers' rows, and the cursor after its last customer (null: last page). */
export interface CustomerPage {
  groups: LedgerGroup[];
  next: string | null;
}

/** Opaque cursor text of a fingerprint (base64url of its bytes). */
export function encodeCursor(fingerprint: string): string {
  return base64url(new TextEncoder().encode(fingerprint));
}

/** The fingerprint of a cursor, or null when the cursor is not one of ours. */
export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  try {
    const fp = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64url(cursor)!);
    return /^[ -~]{1,64}$/.test(fp) ? fp : null;
  } catch {
    return null;
  }
}

/**
 * Rows of the next `limit` customers after the fingerprint `after`, in fingerprint order.
 * A customer is a fingerprint with at least one verified row; the rows of the buckets and
 * of fingerprints never verified are skipped. `readGroupPage` reads in the ledger's read
 * order (fingerprint first) until one customer more than the page holds has been seen, or
 * the rows end. Reads the filter's shards (one with a region filter, all without).
 */
export async function readCustomerPage(
  env: ControlEnv,
  filter: LedgerFilter,
  limit: number,
  after: string | null,
): Promise<CustomerPage> {
  let from: RowKey | null = after === null ? null : [after, AFTER_ALL, "", ""];
  const groups: LedgerGroup[] = [];
  let customers = 0;
  let last = "";
  let pending: LedgerGroup[] = [];
  /** Ends the rows of one fingerprint: kept when it is a customer. False: the page is full. */
  const settle = (): boolean => {
    const fp = pending[0]?.fingerprint;
    if (fp === undefined) return true;
    if (pending.some((g) => g.verified)) {
      if (customers === limit) return false;
      customers++;
      groups.push(...pending);
    }
    last = fp;
    pending = [];
    return true;
  };
  for (;;) {
    const page = await readGroupPage(env, filter, from, ROWS_PER_READ);
    for (const g of page.groups) {
      if (pending.length > 0 && pending[0]!.fingerprint !== g.fingerprint && !settle())
        return { groups, next: encodeCursor(last) };
      pending.push(g);
    }
    const tail = page.groups[page.groups.length - 1];
    if (!page.more || !tail) {
      if (!settle()) return { groups, next: encodeCursor(last) };
      return { groups, next: null };
    }
    from = keyOf(tail);
  }
}

/** The capped (day, code) pairs of the filter (see `readCappedDays`). */
export { readCappedDays } from "../ledger/client";

/** One fingerprint's rows in the filter and the capped days (see `readFingerprintGroups`). */
export function readFingerprint(
  env: ControlEnv,
  fingerprint: string,
  filter: LedgerFilter,
): Promise<{ groups: LedgerGroup[]; capped: LedgerCappedDay[] }> {
  return readFingerprintGroups(env, fingerprint, filter);
}
