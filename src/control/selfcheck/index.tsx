/**
 * Public self-check (`GET /__region-gate/check`): tells the caller where the gate thinks
 * they are and what it decides for them now. It answers about the caller only: their
 * country and subdivision (from `request.cf`, never a header), their decision, their
 * enforcement window, the policy version and the documentation link. Nothing else of the
 * policy (other regions, scope details, exemption entries) is shown.
 *
 * Exemptions are evaluated like the gate does (client address, and the bearer key when
 * one is sent), because a developer asking "why am I not blocked?" deserves the true
 * answer; but only the word `exempt` is revealed, never which entry, CIDR, note or end
 * date matched. The gate itself already tells a caller `x-region-gate-decision: exempt`.
 *
 * With the caller's own bearer key, the answer also holds that key's ledger record over
 * the last 30 days (`own-ledger.ts`): only rows of that key's fingerprint, never the key.
 */

import { type ControlEnv, readConfig } from "../../platform/config";
import { errorResponse } from "../../platform/errors";
import { bearerToken, fingerprint } from "../../platform/fingerprint";
import type { CompiledPolicy } from "../../policy/compile";
import { type Decision, decide } from "../../policy/decision";
import { factsOf, judge } from "../../policy/facts";
import { getPolicy } from "../../store/store";
import { newApp } from "../app";
import { daysText, requestsText } from "../notices/words";
import { callerOf } from "../ration";
import { HTML_HEADERS, Page } from "../ui/layout";
import { type PhaseView, phaseAt, readableInstant } from "../ui/phase";
import { type OwnLedgerError, type OwnLedgerView, ownLedgerView } from "./own-ledger";

/** What the self-check answers, as JSON (and rendered as HTML). */
export interface SelfCheck {
  country: string | null;
  subdivision: string | null;
  /** The region code the decision is about (`CN`, `UA-43`, `XX`, `T1`). */
  region: string | null;
  decision: Decision;
  /** The decision in plain words, for the caller. */
  meaning: string;
  /** The caller's enforcement window, when their region is unsupported. */
  enforcement: PhaseView | null;
  /** The path the decision was taken for: the policy's first judged include prefix (`judgedPath`). */
  checkedPath: string;
  policyVersion: string;
  docsUrl: string | null;
  checkedAt: string;
  /** The caller's own key's ledger record (last 30 days); null when no key was sent. */
  ledger: OwnLedgerView | OwnLedgerError | null;
}

const MEANING: Record<Decision, string> = {
  pass: "Your location is supported: your requests pass.",
  unknown: "The edge could not tell your country; your requests pass.",
  exempt: "Your location is not supported, but an exemption that applies to you lets your requests pass.",
  observe: "Your location is not supported. Your requests still pass; see the enforcement dates below.",
  warn: "Your location is not supported. Your requests pass, with a Sunset header announcing the block date.",
  block: "Your location is not supported: your requests are refused with status 403.",
  monitor: "Your location is not supported. The gate is only monitoring for now, so your requests pass.",
  out_of_scope: "The checked path is not judged by the gate.",
};

/** Builds the caller's self-check from the request's edge facts. */
export async function selfCheckOf(
  policy: CompiledPolicy,
  request: Request,
  salt: string | undefined,
  now: number,
): Promise<SelfCheck> {
  const path = policy.defaultPath;
  const facts = factsOf(request, path);
  // The window is taken without exemptions: an exempt caller still learns their dates.
  const regional = decide(policy, { ...facts, ip: null }, now);
  const verdict = regional.window ? (await judge(policy, facts, salt, now)).verdict : regional;
  const { country, regionCode } = facts;
  return {
    country,
    subdivision: country && regionCode ? `${country}-${regionCode}` : null,
    region: verdict.region,
    decision: verdict.decision,
    meaning: MEANING[verdict.decision],
    enforcement: regional.window ? phaseAt(regional.window, now) : null,
    checkedPath: path,
    policyVersion: policy.version,
    docsUrl: policy.docsUrl,
    checkedAt: new Date(now).toISOString(),
    ledger: null,
  };
}

/** The ledger part of the answer for the request's bearer key (null without one). */
async function ledgerOf(
  env: ControlEnv,
  policy: CompiledPolicy,
  request: Request,
  now: number,
): Promise<SelfCheck["ledger"]> {
  const token = bearerToken(request.headers.get("authorization"));
  if (token === null) return null;
  if (!env.IDENTITY_SALT) {
    return { fingerprint: null, error: "This gate does not fingerprint keys (IDENTITY_SALT is unset)." };
  }
  const checkUrl = `${new URL(request.url).origin}/__region-gate/check`;
  return ownLedgerView(
    env,
    policy,
    await fingerprint(env.IDENTITY_SALT, token),
    now,
    callerOf(request.headers),
    checkUrl,
  );
}

const wantsJson = (request: Request, format: string | undefined) =>
  format === "json" ||
  (format !== "html" && (request.headers.get("accept") ?? "").includes("application/json"));

function CheckPage({ check }: { check: SelfCheck }) {
  const e = check.enforcement;
  return (
    <Page title="Where does the gate think you are?">
      <h1>Where does the gate think you are?</h1>
      <div class="card">
        <dl class="facts">
          <dt>Country</dt>
          <dd>
            <b>{check.country ?? "unknown"}</b>
          </dd>
          <dt>Subdivision</dt>
          <dd>{check.subdivision ?? "—"}</dd>
          <dt>Decision now</dt>
          <dd>
            <span class={`tag ${check.decision}`}>{check.decision}</span>
            {check.region && check.region !== check.country ? <> (region {check.region})</> : null}
          </dd>
          {e ? (
            <>
              <dt>Enforcement</dt>
              <dd>{e.summary}</dd>
              <dt>Warnings from</dt>
              <dd>{readableInstant(e.warnFrom)}</dd>
              <dt>Blocking from</dt>
              <dd>{e.blockFrom === null ? "never" : readableInstant(e.blockFrom)}</dd>
            </>
          ) : null}
        </dl>
        <p>{check.meaning}</p>
        {check.docsUrl ? (
          <p>
            Supported locations: <a href={check.docsUrl}>{check.docsUrl}</a>
          </p>
        ) : null}
      </div>
      {check.ledger ? <OwnLedgerCard view={check.ledger} /> : null}
      <p class="muted">
        Checked for <code>{check.checkedPath}</code> with policy <code>{check.policyVersion}</code> at{" "}
        {readableInstant(check.checkedAt)}. Your location comes from the network you connect from: a VPN, a
        proxy or a cloud region changes it. <a href="?format=json">As JSON</a>
      </p>
    </Page>
  );
}

function OwnLedgerCard({ view }: { view: OwnLedgerView | OwnLedgerError }) {
  if ("error" in view) {
    return (
      <div class="card">
        <h2>Your key's traffic record</h2>
        <p class="error">{view.error}</p>
      </div>
    );
  }
  return (
    <div class="card">
      <h2>Your key's traffic from unsupported regions</h2>
      <p>
        Key fingerprint <code>{view.fingerprint}</code>, {view.from} to {view.to}:{" "}
        {view.regions.length === 0
          ? "no traffic from unsupported regions is recorded for this key."
          : `${requestsText(view.requests)} from ${view.regions.length} unsupported region${view.regions.length === 1 ? "" : "s"}.`}
      </p>
      {view.regions.length > 0 ? (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>Region</th>
                <th>Days</th>
                <th class="num">Requests</th>
                <th class="num">Refused</th>
                <th>Networks</th>
                <th>What happens next</th>
              </tr>
            </thead>
            <tbody>
              {view.regions.map((r) => (
                <tr>
                  <td>{r.name}</td>
                  <td>
                    {daysText(r.dayList)}
                    {r.cappedDays.length > 0 ? (
                      <>
                        {" "}
                        <span class="tag">capped {daysText(r.cappedDays)}</span>
                      </>
                    ) : null}
                  </td>
                  <td class="num">{r.requests}</td>
                  <td class="num">{r.decisions.block}</td>
                  <td>
                    {r.networks
                      .map((n) =>
                        n.network === "other"
                          ? `other (${n.requests})`
                          : `${n.network}${n.name ? ` ${n.name}` : ""}${n.class ? `, ${n.class}` : ""} (${n.requests})`,
                      )
                      .join("; ")}
                  </td>
                  <td>{r.next.text}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted">
          Requests made with a key count under it only once our API has accepted that key from that region;
          requests it refused are not attributed to any key.
        </p>
      )}
      {view.capped ? (
        <p class="muted">
          On a capped day more customers than the record keeps sent traffic from that region: requests of a
          key first seen that day may be missing here.
        </p>
      ) : null}
      {view.identities.length > 0 ? (
        <p class="muted">
          Seen with:{" "}
          {view.identities
            .map((i) =>
              Object.entries(i)
                .map(([k, v]) => `${k}=${v}`)
                .join(", "),
            )
            .join("; ")}
          .
        </p>
      ) : null}
      {view.notice ? (
        <>
          <h3>The notice we would send about this key</h3>
          <pre class="notice">{view.notice}</pre>
        </>
      ) : null}
      <p class="muted">
        Read from the gate's ledger at {readableInstant(view.readAt)}; it may be a minute old.
      </p>
    </div>
  );
}

/** Sub-app mounted at `/__region-gate/check`; needs no token, never proxies. */
export const selfCheck = newApp();

selfCheck.get("/", async (c) => {
  const config = readConfig(c.env);
  if (!config.selfCheck) {
    return errorResponse("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`);
  }
  const json = wantsJson(c.req.raw, c.req.query("format"));
  const policy = await getPolicy(c.env);
  if (policy === null) {
    const message = "No region policy is loaded right now; try again in a minute.";
    if (json) {
      return errorResponse("region_policy_unavailable", message);
    }
    return c.html(
      <Page title="Self-check unavailable">
        <p class="error">{message}</p>
      </Page>,
      503,
      HTML_HEADERS,
    );
  }
  const now = Date.now();
  const check = await selfCheckOf(policy, c.req.raw, c.env.IDENTITY_SALT, now);
  check.ledger = await ledgerOf(c.env, policy, c.req.raw, now);
  // The answer depends on the caller's key: never cached by a shared cache.
  const vary = { vary: "accept, authorization" };
  // Over its ration of ledger lookups (SPEC section 7): 429, the rest of the answer still given.
  const wait = check.ledger !== null && "retryAfter" in check.ledger ? check.ledger.retryAfter : undefined;
  const status = wait === undefined ? 200 : 429;
  const headers = wait === undefined ? vary : { ...vary, "retry-after": String(wait) };
  if (json) return c.json(check, status, { "cache-control": "no-store", ...headers });
  return c.html(<CheckPage check={check} />, status, { ...HTML_HEADERS, ...headers });
});
