/**
 * Strict JSON for policy documents. `JSON.parse` lets the last of two equal keys win
 * silently, so `{"mode":"monitor","mode":"enforce"}` would mean something other than
 * what a reviewer read; it also accepts `__proto__` keys, which turn into prototype
 * changes the moment some code copies the object with `Object.assign`. This scans the
 * raw text once (iteratively, so hostile nesting cannot overflow the stack) and refuses
 * both, plus nesting deeper than any policy needs, each with its JSON path.
 */
import { lineOf, syntaxProblem } from "./json-syntax";
import type { PolicyProblem } from "./schema";

export type StrictJsonResult = { ok: true; value: unknown } | { ok: false; errors: PolicyProblem[] };

/** A policy nests 4 levels (`$.enforcement.regions.CN`); anything far deeper is hostile. */
export const DEFAULT_MAX_DEPTH = 32;

/** Same path syntax as `validatePolicy`: `.name` for identifiers, `["x-y"]` otherwise. */
function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

type Frame =
  | { kind: "object"; path: string; keys: Set<string>; key: string | null; expectKey: boolean }
  | { kind: "array"; path: string; index: number };

/** End index (exclusive) of the string literal starting at `start` (a `"`), or -1. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 92 /* \ */) i++;
    else if (ch === 34 /* " */) return i + 1;
  }
  return -1;
}

/**
 * Parses `text` as JSON, refusing duplicate keys, `__proto__` keys and nesting deeper
 * than `maxDepth`. Every duplicate is reported, not just the first.
 *
 * @example parseJsonStrict('{"mode":"monitor","mode":"enforce"}')
 *   // → { ok: false, errors: [{ path: "$.mode", message: "duplicate key \"mode\" ..." }] }
 */
export function parseJsonStrict(text: string, maxDepth = DEFAULT_MAX_DEPTH): StrictJsonResult {
  const errors: PolicyProblem[] = [];
  const stack: Frame[] = [];
  const here = (): string => {
    const top = stack[stack.length - 1];
    if (top === undefined) return "$";
    return top.kind === "array" ? childPath(top.path, top.index) : childPath(top.path, top.key ?? "");
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const top = stack[stack.length - 1];
    if (ch === '"') {
      const end = stringEnd(text, i);
      if (end < 0) break; // JSON.parse below reports the unterminated string.
      if (top?.kind === "object" && top.expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, end)) as string;
        } catch {
          break;
        }
        const path = childPath(top.path, key);
        if (top.keys.has(key) || key === "__proto__") {
          const { line, column } = lineOf(text, i);
          const at = `line ${line}, column ${column}`;
          errors.push({
            path,
            message: top.keys.has(key)
              ? `duplicate key ${JSON.stringify(key)} at ${at}; JSON would silently keep only the last one, so write it once`
              : `the key "__proto__" (at ${at}) is not allowed in a policy`,
          });
        }
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end - 1;
    } else if (ch === "{" || ch === "[") {
      if (stack.length >= maxDepth) {
        return {
          ok: false,
          errors: [
            { path: here(), message: `nested deeper than ${maxDepth} levels; a policy needs at most 4` },
          ],
        };
      }
      const path = here();
      stack.push(
        ch === "{"
          ? { kind: "object", path, keys: new Set(), key: null, expectKey: true }
          : { kind: "array", path, index: 0 },
      );
    } else if (ch === "}" || ch === "]") {
      stack.pop();
    } else if (ch === ",") {
      if (top?.kind === "object") top.expectKey = true;
      else if (top?.kind === "array") top.index++;
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [syntaxProblem(text, e as Error)] };
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value };
}
