/**
 * The KV layout of the `POLICY` namespace, in one place: the gate's store reads the active
 * key, the admin API and the CLI write both.
 * - `policy`: the active document. Metadata `ActiveMeta` (./meta.ts).
 * - `policy@<version>`: every document that was ever active, byte for byte. Metadata
 *   `HistoryMeta` (its sha256 and the last activations: when, by whom, how).
 */

/** KV key of the active policy. */
export const POLICY_KEY = "policy";
/** Prefix of the history keys: `policy@<version>`. */
export const HISTORY_PREFIX = "policy@";

/** `policy@<version>` */
export const historyKey = (version: string): string => `${HISTORY_PREFIX}${version}`;
