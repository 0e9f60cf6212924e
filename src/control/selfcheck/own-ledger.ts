/**
 * The customer's own view (SPEC section 6): with `Authorization: Bearer <key>`, `/check`
 * also tells what the ledger holds for that key's fingerprint over the last 30 days, and
 * nothing about any other key. The key is only hashed, never echoed or stored.
 *
 * Cost is bounded twice: a fingerprint's rows are cached in the isolate for a minute
 * (resolved values only, never a pending promise shared across requests), and each client
 * address makes at most `LOOKUPS_PER_MINUTE` uncached ledger reads a minute (SPEC section
 * 7), so a client sending random keys cannot turn `/check` into a fan-out amplifier, nor
 * use up anyone else's lookups. Each uncached read is one per-fingerprint read of the
 * ledger, which asks every shard: the ledger shards by region (see docs/ledger.md,
 * "Reading it").
 */

import { utcDay } from "../../exposure/model";
import type { LedgerCappedDay } from "../../exposure/wire";
import type { ControlEnv } from "../../platform/config";
import { log } from "../../platform/log";
import type { CompiledPolicy } from "../../policy/compile";
import { DEFAULT_PROVIDER, renderNotice } from "../notices/notice-render";
import { buildNotices, type NoticeRegion, type NoticeRow } from "../notices/notices";
import { readFingerprint } from "../notices/notices-read";
import { Ration } from "../ration";

/** Days the customer view covers, today included. */
export const OWN_VIEW_DAYS = 30;
/** How long a fingerprint's rows are reused. */
export const OWN_VIEW_CACHE_MS = 60_000;
/** Fingerprints remembered per isolate (oldest dropped first). */
const CACHE_ENTRIES = 1000;
/** Uncached ledger reads a client address may make per minute for `/check` (then 429). */
export const LOOKUPS_PER_MINUTE = 20;

/** What `/check` reports of the caller's own key. */
export interface OwnLedgerView {
  fingerprint: string;
  from: string;
  to: string;
  requests: number;
  /** Identity header values seen on this key's requests that the origin accepted. */
  identities: Record<string, string>[];
  /**
   * Each code the key sent traffic from that the origin accepted it for, restricted ones
   * first: days, requests per decision, networks, capped days, next step.
   */
  regions: NoticeRegion[];
  /** Some (day, code) of `regions` was capped: counts of that day may be short. */
  capped: boolean;
  /** The notice a provider would send for this key now (Markdown), null when none would be sent. */
  notice: string | null;
  /** When the ledger was read (the view may be up to a minute old). */
  readAt: string;
}

/** The view could not be made: no salt, the ledger could not be read now, or the caller is over its ration. */
export interface OwnLedgerError {
  fingerprint: string | null;
  error: string;
  /** Over its ration of lookups: seconds until the caller may look up again (`Retry-After`). */
  retryAfter?: number;
}

interface Cached {
  at: number;
  from: string;
  rows: NoticeRow[];
  capped: LedgerCappedDay[];
}

const cache = new Map<string, Cached>();
const lookups = new Ration(LOOKUPS_PER_MINUTE);

/** Empties the cache and every caller's ration (tests). */
export function resetOwnLedgerCache(): void {
  cache.clear();
  lookups.reset();
}

async function rowsOf(
  env: ControlEnv,
  fingerprint: string,
  from: string,
  to: string,
  now: number,
  caller: string,
): Promise<Cached | { retryAfter: number }> {
  const hit = cache.get(fingerprint);
  if (hit && now - hit.at < OWN_VIEW_CACHE_MS && hit.from === from) return hit;
  const retryAfter = lookups.take(caller, now);
  if (retryAfter > 0) return { retryAfter };
  const { groups, capped } = await readFingerprint(env, fingerprint, { from, to });
  const entry: Cached = { at: now, from, rows: groups, capped };
  cache.delete(fingerprint);
  if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(fingerprint, entry);
  return entry;
}

/**
 * The ledger view of `fingerprint` over the last 30 days, judged by `policy` at `now`, and
 * the notice it would make; an uncached read counts against `caller`'s ration (`callerOf`,
 * ../ration.ts). `checkUrl` is the self-check's own URL (the notice names it).
 */
export async function ownLedgerView(
  env: ControlEnv,
  policy: CompiledPolicy,
  fingerprint: string,
  now: number,
  caller: string,
  checkUrl: string,
): Promise<OwnLedgerView | OwnLedgerError> {
  const to = utcDay(now);
  const from = utcDay(now - (OWN_VIEW_DAYS - 1) * 86_400_000);
  let got: Awaited<ReturnType<typeof rowsOf>>;
  try {
    got = await rowsOf(env, fingerprint, from, to, now, caller);
  } catch (err) {
    log("error", "selfcheck_ledger_failed", { error: err instanceof Error ? err.message : String(err) });
    return { fingerprint, error: "The traffic record could not be read right now; try again in a minute." };
  }
  if ("retryAfter" in got) {
    const { retryAfter } = got;
    return {
      fingerprint,
      error: `Too many traffic-record lookups from your address; try again in ${retryAfter} s.`,
      retryAfter,
    };
  }
  // Only this key's rows were read; the notice code keeps those the origin accepted.
  const [notice] = buildNotices(got.rows, policy, now, got.capped);
  const regions = notice ? [...notice.regions, ...notice.unrestricted] : [];
  return {
    fingerprint,
    from,
    to,
    requests: notice?.requests ?? 0,
    identities: notice?.identities ?? [],
    regions,
    capped: regions.some((r) => r.cappedDays.length > 0),
    notice: notice
      ? renderNotice(notice, {
          provider: DEFAULT_PROVIDER,
          policyVersion: policy.version,
          docsUrl: policy.docsUrl,
          checkUrl,
          contact: null,
          from,
          to,
          generatedAt: new Date(now).toISOString(),
        })
      : null,
    readAt: new Date(got.at).toISOString(),
  };
}
