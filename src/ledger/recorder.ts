import type { GateEnv } from "../config";
import type { Verdict } from "../decision";
import type { CompiledPolicy } from "../policy/compile";

/**
 * Counts one exposure event for a request from an unsupported region (SPEC section 6).
 * Must add no awaited work: aggregation in the isolate, flush via `ctx.waitUntil`.
 */
export function recordExposure(
  _ctx: Pick<ExecutionContext, "waitUntil">,
  _env: GateEnv,
  _policy: CompiledPolicy,
  _verdict: Verdict,
  _request: Request,
  _fingerprint: string | null,
): void {}
