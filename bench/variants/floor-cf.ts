import { forwardAsGate } from "../floor-worker";

/**
 * bench/floor-worker.ts with the country and subdivision read from `request.cf`, as any
 * gate must: the least a SPEC-conforming gate can do before it consults a policy.
 */
export default {
  fetch(request: Request, env: { ORIGIN_URL: string }): Promise<Response> {
    const cf = request.cf;
    const country = typeof cf?.country === "string" ? cf.country : "XX";
    const region = typeof cf?.regionCode === "string" ? `${country}-${cf.regionCode}` : country;
    return forwardAsGate(request, env.ORIGIN_URL, country, region);
  },
};
