/**
 * Ledger reads for notices: whole customers per page, so a notice is never split across
 * pages, and one fingerprint's rows for the customer's own view in `/check`.
 */

import type { LedgerFilter, LedgerGroup, RowKey } from "../../exposure/wire";
import { base64url, fromBase64url } from "../../platform/base64url";
import type { ControlEnv } from "../../platform/config";
import { readFingerprintGroups, readGroupPage } from "../ledger/client";
import { keyOf } from "../ledger/report";
import { customerKey } from "./notices";

/** Rows asked of the ledger per read while a page of customers is gathered. */
const ROWS_PER_READ = 1000;
/** Sorts after every region code: a key that skips all rows of a customer. */
const AFTER_ALL_REGIONS = "\u{10FFFF}";

/** Notices per page by default and at most. */
export const NOTICES_DEFAULT_LIMIT = 100;
export const NOTICES_MAX_LIMIT = 1000;

/** A page of whole customers' rows, and the cursor after its last customer (null: last page). */
export interface CustomerPage {
  groups: LedgerGroup[];
  next: string | null;
}

/** Opaque cursor text of a customer key (base64url of its UTF-8 bytes). */
export function encodeCursor(key: string): string {
  return base64url(new TextEncoder().encode(key));
}

/** The customer key of a cursor, or null when the cursor is not one of ours. */
export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(cursor)) return null;
  try {
    const key = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64url(cursor)!);
    return key.includes("\u0000") ? key : null;
  } catch {
    return null;
  }
}

/**
 * Rows of the next `limit` customers after `after` (a customer key), in customer order:
 * `readGroupPage` reads from the ledger's read order (customer first) until one customer
 * more than the page holds has been seen, or the rows end. Reads the filter's shards (one
 * with a region filter, all without), never more than the page needs plus one read.
 */
export async function readCustomerPage(
  env: ControlEnv,
  filter: LedgerFilter,
  limit: number,
  after: string | null,
): Promise<CustomerPage> {
  let from: RowKey | null = null;
  if (after !== null) {
    const [fingerprint = "", identity = ""] = after.split("\u0000");
    from = [fingerprint, identity, AFTER_ALL_REGIONS, ""];
  }
  const groups: LedgerGroup[] = [];
  let customers = 0;
  let current: string | null = null;
  for (;;) {
    const page = await readGroupPage(env, filter, from, ROWS_PER_READ);
    for (const g of page.groups) {
      const k = customerKey(g);
      if (k !== current) {
        if (customers === limit) return { groups, next: encodeCursor(current as string) };
        customers++;
        current = k;
      }
      groups.push(g);
    }
    const last = page.groups[page.groups.length - 1];
    if (!page.more || !last) return { groups, next: null };
    from = keyOf(last);
  }
}

/** One fingerprint's rows in the filter (see `readFingerprintGroups` for the shards it reads). */
export function readFingerprint(
  env: ControlEnv,
  fingerprint: string,
  filter: LedgerFilter,
): Promise<LedgerGroup[]> {
  return readFingerprintGroups(env, fingerprint, filter);
}
