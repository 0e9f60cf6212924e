/**
 * Ledger reads for notices: whole customers per page, so a notice is never split across
 * pages, and one fingerprint's rows for the customer's own view in `/check`.
 */
import type { LedgerFilter, LedgerGroup } from "./ledger-do";
import { shardStub, shardsFor } from "./model";
import { customerKey } from "./notices";

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
  let bin = "";
  for (const b of new TextEncoder().encode(key)) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The customer key of a cursor, or null when the cursor is not one of ours. */
export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(cursor)) return null;
  try {
    const bin = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const key = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(bin, (c) => c.charCodeAt(0)),
    );
    return key.includes("\u0000") ? key : null;
  } catch {
    return null;
  }
}

/**
 * Rows of the next `limit` customers after `after` (a customer key), in customer order.
 * Reads the filter's shards (one with a region filter, all without).
 */
export async function readCustomerPage(
  env: Env,
  filter: LedgerFilter,
  limit: number,
  after: string | null,
): Promise<CustomerPage> {
  const parts = await Promise.all(shardsFor(filter.region).map((s) => shardStub(env, s).rows(filter)));
  const byCustomer = new Map<string, LedgerGroup[]>();
  for (const g of parts.flat()) {
    const k = customerKey(g);
    if (after !== null && k <= after) continue;
    const list = byCustomer.get(k);
    if (list) list.push(g);
    else byCustomer.set(k, [g]);
  }
  const keys = [...byCustomer.keys()].sort();
  const page = keys.slice(0, limit);
  return {
    groups: page.flatMap((k) => byCustomer.get(k)!),
    next: keys.length > limit ? encodeCursor(page[page.length - 1]!) : null,
  };
}

/** One fingerprint's rows in the filter, from every shard (a fingerprint's regions are spread). */
export async function readFingerprint(
  env: Env,
  fingerprint: string,
  filter: LedgerFilter,
): Promise<LedgerGroup[]> {
  const parts = await Promise.all(shardsFor(filter.region).map((s) => shardStub(env, s).rows(filter)));
  return parts.flat().filter((g) => g.fingerprint === fingerprint);
}
