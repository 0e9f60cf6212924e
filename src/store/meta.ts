/**
 * The metadata stored beside each policy key (./keys.ts), and how it is read back:
 * defensively, because keys written by hand may carry none or a wrong shape.
 */

/** KV refuses metadata over 1024 bytes; history metadata is trimmed to stay under this. */
const METADATA_BUDGET = 1000;

export type ActivationVia = "push" | "rollback";

/** One moment a document became active. `by` is `token`, an Access email or `cli:<user>`. */
export interface Activation {
  at: string;
  by: string;
  via: ActivationVia;
}

/** Metadata of `policy`. */
export interface ActiveMeta extends Activation {
  version: string;
  sha256: string;
}

/** Metadata of `policy@<version>`; `activations` is oldest first and keeps the most recent ones. */
export interface HistoryMeta {
  sha256: string;
  activations: Activation[];
}

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

function asActivation(x: unknown): Activation | null {
  if (!isRecord(x) || typeof x.at !== "string" || typeof x.by !== "string") return null;
  return { at: x.at, by: x.by, via: x.via === "rollback" ? "rollback" : "push" };
}

/** Reads history metadata defensively: keys written by hand may carry none. */
export function asHistoryMeta(meta: unknown): HistoryMeta | null {
  if (!isRecord(meta) || typeof meta.sha256 !== "string") return null;
  const activations = Array.isArray(meta.activations)
    ? meta.activations.map(asActivation).filter((a): a is Activation => a !== null)
    : [];
  return { sha256: meta.sha256, activations };
}

/** Reads the active key's metadata defensively. */
export function asActiveMeta(meta: unknown): ActiveMeta | null {
  const activation = asActivation(meta);
  if (!activation || !isRecord(meta) || typeof meta.version !== "string" || typeof meta.sha256 !== "string")
    return null;
  return { ...activation, version: meta.version, sha256: meta.sha256 };
}

/** Appends an activation, dropping the oldest ones past KV's metadata limit. */
export function withActivation(sha256: string, previous: Activation[], next: Activation): HistoryMeta {
  const meta: HistoryMeta = { sha256, activations: [...previous, next] };
  while (meta.activations.length > 1 && JSON.stringify(meta).length > METADATA_BUDGET) {
    meta.activations.shift();
  }
  return meta;
}

/** The `version` a stored text names, for keys whose metadata does not say (null: none). */
export function versionOf(text: string): string | null {
  try {
    const doc: unknown = JSON.parse(text);
    return isRecord(doc) && typeof doc.version === "string" && doc.version !== "" ? doc.version : null;
  } catch {
    return null;
  }
}
