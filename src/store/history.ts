/**
 * Reading the policy history: the stored versions, newest activation first, and which
 * version was active at an instant.
 */
import { sha256Hex } from "./etag";
import { HISTORY_PREFIX, POLICY_KEY } from "./keys";
import { type Activation, asActiveMeta, asHistoryMeta, versionOf } from "./meta";
import type { PolicyStorage } from "./storage";

/** One row of `GET /policy/history`, newest activation first. */
export interface HistoryEntry {
  version: string;
  sha256: string;
  active: boolean;
  /** The last time this version became active (null: archived without a record). */
  activatedAt: string | null;
  activations: Activation[];
}

export interface HistoryView {
  active: { version: string; sha256: string } | null;
  versions: HistoryEntry[];
}

/** sha256 from metadata, or of the value itself for keys written by hand without metadata. */
async function shaOf(storage: PolicyStorage, key: string, meta: { sha256: string } | null): Promise<string> {
  if (meta) return meta.sha256;
  const value = (await storage.read(key))?.value;
  return value === undefined ? "" : sha256Hex(value);
}

/** Stored versions, the most recently activated first; versions never activated go last. */
export async function readHistory(storage: PolicyStorage): Promise<HistoryView> {
  const [keys, activeHead] = await Promise.all([storage.list(HISTORY_PREFIX), storage.head(POLICY_KEY)]);
  const activeMeta = activeHead ? asActiveMeta(activeHead.meta) : null;
  const activeSha = activeHead ? await shaOf(storage, POLICY_KEY, activeMeta) : null;
  const activeVersion =
    activeMeta?.version ?? (activeHead ? versionOf((await storage.read(POLICY_KEY))?.value ?? "") : null);
  const versions: HistoryEntry[] = await Promise.all(
    keys.map(async ({ name, meta }) => {
      const m = asHistoryMeta(meta);
      const sha256 = await shaOf(storage, name, m);
      const activations = m?.activations ?? [];
      return {
        version: name.slice(HISTORY_PREFIX.length),
        sha256,
        active: activeSha !== null && activeSha === sha256,
        activatedAt: activations.at(-1)?.at ?? null,
        activations,
      };
    }),
  );
  versions.sort((a, b) => {
    if (a.activatedAt === b.activatedAt) return a.version < b.version ? -1 : 1;
    if (a.activatedAt === null) return 1;
    if (b.activatedAt === null) return -1;
    return a.activatedAt < b.activatedAt ? 1 : -1;
  });
  return {
    active:
      activeSha !== null && activeVersion !== null ? { version: activeVersion, sha256: activeSha } : null,
    versions,
  };
}

/**
 * The version that was active at `at` according to the recorded activations, or null
 * when none was recorded before it. Answers "what was active on 2024-07-09 at 10:00 UTC".
 */
export function activeAt(view: HistoryView, at: Date): string | null {
  let best: { at: number; version: string } | null = null;
  for (const entry of view.versions) {
    for (const a of entry.activations) {
      const t = Date.parse(a.at);
      if (t <= at.getTime() && (best === null || t > best.at)) best = { at: t, version: entry.version };
    }
  }
  return best?.version ?? null;
}
