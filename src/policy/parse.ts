/**
 * The one way from policy text to a policy: strict JSON (duplicate keys, `__proto__` and
 * hostile nesting refused, syntax errors with line and column) → schema validation →
 * compilation. The gate's store, the admin API, the dashboard, history rollbacks and the
 * CLI all call `parsePolicy`, so the same bytes get the same answer everywhere.
 */
import { type CompiledPolicy, compilePolicy } from "./compile";
import { parseJsonStrict } from "./json";
import type { PolicyDocument, PolicyProblem } from "./schema";
import { validatePolicy } from "./validate";

/**
 * Why a text is not a policy: `syntax` (not JSON at all), `strict` (JSON that would not
 * mean what it says: a duplicated key, `__proto__`, nesting) or `schema` (SPEC section 2).
 */
export type PolicyTextStage = "syntax" | "strict" | "schema";

export type ParsedPolicy =
  | { ok: true; policy: PolicyDocument; compiled: CompiledPolicy }
  | { ok: false; stage: PolicyTextStage; errors: PolicyProblem[] };

/**
 * Parses, validates and compiles a policy document; every problem with its JSON path.
 *
 * @example parsePolicy('{"schema":1,"version":"v","supported":["DE"],"mode":"x","mode":"y"}')
 *   // → { ok: false, stage: "strict", errors: [{ path: "$.mode", message: 'duplicate key "mode" ...' }] }
 */
export function parsePolicy(text: string): ParsedPolicy {
  const parsed = parseJsonStrict(text);
  if (!parsed.ok) {
    const syntax = parsed.errors.length === 1 && parsed.errors[0]!.message.startsWith("not valid JSON");
    return { ok: false, stage: syntax ? "syntax" : "strict", errors: parsed.errors };
  }
  const result = validatePolicy(parsed.value);
  if (!result.ok) return { ok: false, stage: "schema", errors: result.errors };
  return { ok: true, policy: result.policy, compiled: compilePolicy(result.policy) };
}

/** The problems of a policy text, empty when it is a valid policy (for rollback checks). */
export function policyTextProblems(text: string): PolicyProblem[] {
  const result = parsePolicy(text);
  return result.ok ? [] : result.errors;
}
