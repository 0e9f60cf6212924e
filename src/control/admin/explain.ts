/**
 * `GET /explain`: the decision the gate makes for a described case, with the active
 * policy of this isolate (the same one its requests are judged by).
 */

import { errorResponse } from "../../platform/errors";
import { explainCase, parseExplainQuery } from "../../policy/explain";
import { getPolicy } from "../../store/store";
import { newApp } from "../app";

export const explainRoutes = newApp();

explainRoutes.get("/explain", async (c) => {
  const q = c.req.query();
  const parsed = parseExplainQuery(
    {
      country: q.country,
      region: q.region,
      at: q.at,
      ip: q.ip,
      fingerprint: q.fingerprint,
      path: q.path,
      asn: q.asn,
    },
    Date.now(),
  );
  if (!parsed.ok) {
    const first = parsed.problems[0]!;
    return errorResponse(
      "invalid_explain_query",
      parsed.problems.map((p) => `${p.param}: ${p.message}`).join("; "),
      {
        param: first.param,
        errors: parsed.problems,
      },
    );
  }
  const policy = await getPolicy(c.env);
  if (policy === null) {
    return errorResponse(
      "region_policy_unavailable",
      "no valid policy is loaded; push one with `region-gate policy push FILE` (GET /__region-gate/healthz shows the last load error)",
    );
  }
  return c.json(explainCase(policy, parsed.value), 200, { "cache-control": "no-store" });
});
