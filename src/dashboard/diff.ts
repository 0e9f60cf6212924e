/**
 * A readable difference between two policy documents, by JSON path: "supported: + XK",
 * "enforcement.regions.CN.blockFrom: 2024-07-09… → 2024-08-01…". Arrays of plain values
 * (country lists, scope prefixes) are compared as sets, because their order carries no
 * meaning in a policy; other arrays (exemptions) by their entries' JSON.
 */

export interface Change {
  path: string;
  kind: "added" | "removed" | "changed";
  before?: string;
  after?: string;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

const text = (x: unknown): string => JSON.stringify(x) ?? "undefined";

const join = (path: string, key: string) =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;

function walk(before: unknown, after: unknown, path: string, out: Change[]): void {
  if (isObject(before) && isObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      const p = join(path, key);
      if (!(key in after)) out.push({ path: p, kind: "removed", before: text(before[key]) });
      else if (!(key in before)) out.push({ path: p, kind: "added", after: text(after[key]) });
      else walk(before[key], after[key], p, out);
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const b = new Set(before.map(text));
    const a = new Set(after.map(text));
    for (const item of b) if (!a.has(item)) out.push({ path, kind: "removed", before: item });
    for (const item of a) if (!b.has(item)) out.push({ path, kind: "added", after: item });
    return;
  }
  if (text(before) !== text(after))
    out.push({ path, kind: "changed", before: text(before), after: text(after) });
}

/**
 * Every difference from `before` to `after`, in document order.
 *
 * @example diffPolicies({ supported: ["DE"] }, { supported: ["DE", "XK"] })
 *   // → [{ path: "supported", kind: "added", after: '"XK"' }]
 */
export function diffPolicies(before: unknown, after: unknown): Change[] {
  const out: Change[] = [];
  walk(before, after, "", out);
  return out;
}
