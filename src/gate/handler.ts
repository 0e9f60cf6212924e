/**
 * The request path: policy → decision → 403 or stream through to the origin.
 */

import { type GateEnv, readConfig } from "../platform/config";
import { climbsAboveRoot } from "../policy/decision";
import { factsOf, judge } from "../policy/facts";
import { isLedgerDecision } from "../policy/ledger-decisions";
import { getPolicy } from "../store/store";
import { afterBody } from "./drain";
import { exposureEventOf } from "./exposure-event";
import { forward } from "./proxy";
import { recordExposure } from "./recorder";
import {
  blocked,
  invalidRequestPath,
  malformedRequestPath,
  policyUnavailable,
  withNotice,
} from "./responses";

/** A `%` that does not start a `%XX` escape. The runtime's fetch refuses such a URL outright. */
const LONE_PERCENT = /%(?![0-9A-Fa-f]{2})/;

/**
 * Judges one request and answers it: 400 when its path climbs above the root (whatever
 * the policy and FAIL_MODE: no origin may serve such a path), 503 without a policy
 * (FAIL_MODE=closed), 403 when blocked (those three after reading the request body, see
 * `afterBody`), otherwise the origin's response (streamed) with the decision's notice
 * headers. `url` is the request's parsed URL, when the caller already has it.
 */
export async function gate(
  request: Request,
  env: GateEnv,
  ctx: Pick<ExecutionContext, "waitUntil">,
  url: URL = new URL(request.url),
): Promise<Response> {
  // Each URL getter crosses into the runtime and makes a new string: read them once here.
  const path = url.pathname;
  const query = url.search;
  if (climbsAboveRoot(path)) return afterBody(request, invalidRequestPath());
  // Checked only when path or query has a `%` at all, so a clean URL pays two `includes`.
  if ((path.includes("%") && LONE_PERCENT.test(path)) || (query.includes("%") && LONE_PERCENT.test(query))) {
    return afterBody(request, malformedRequestPath());
  }
  const facts = factsOf(request, path);
  const config = readConfig(env);
  const policy = await getPolicy(env);
  const options = {
    originBase: config.originBase,
    timeoutMs: config.originTimeoutMs,
    authSecret: env.ORIGIN_AUTH_SECRET,
    policyVersion: policy?.version ?? null,
  };
  if (policy === null) {
    return config.failOpen
      ? forward(request, null, facts, options, url)
      : afterBody(request, policyUnavailable());
  }

  const now = Date.now();
  const { verdict, fingerprint } = await judge(policy, facts, env.IDENTITY_SALT, now);
  const decision = verdict.decision;
  // Counted once the outcome is known: at once for a block, once the origin's response
  // headers are in for a forwarded request (its status says whether the key was accepted).
  // Recording is synchronous, so neither waits on the ledger.
  if (decision === "block") {
    if (config.ledger.enabled)
      recordExposure(
        ctx,
        env,
        config.ledger,
        exposureEventOf(policy, facts, verdict, decision, fingerprint, null, now),
      );
    return afterBody(request, blocked(policy, verdict));
  }
  const response = await forward(request, verdict, facts, options, url);
  if (config.ledger.enabled && isLedgerDecision(decision)) {
    const event = exposureEventOf(policy, facts, verdict, decision, fingerprint, response.status, now);
    recordExposure(ctx, env, config.ledger, event);
  }
  return withNotice(response, policy, verdict);
}
