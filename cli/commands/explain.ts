/**
 * `region-gate explain`: the decision for a case, by the gate's own code (`src/policy/explain.ts`
 * and `decide`), with the active policy or a policy file.
 */

import { compilePolicy } from "../../src/policy/compile";
import { type Explanation, explainCase, parseExplainQuery } from "../../src/policy/explain";
import { parsePolicy } from "../../src/policy/parse";
import { policyBackend, STORE_OPTIONS, storeHelp } from "../backend";
import { command } from "../command";
import { CliError, EXIT } from "../errors";
import { loadPolicyFile } from "../io";

/** Human-readable explanation, one fact per line. */
export function formatExplanation(e: Explanation): string {
  const who = e.case.region ?? e.case.country ?? "unknown country";
  const extras = [
    e.network && `network ${e.network.code}`,
    e.case.ip && `ip ${e.case.ip}`,
    e.case.fingerprint && `key ${e.case.fingerprint}`,
  ].filter(Boolean);
  const lines = [
    `${who} on ${e.case.path} at ${e.at} (policy ${e.policyVersion}${extras.length ? `, ${extras.join(", ")}` : ""}):`,
    `  decision  ${e.decision}`,
    `  region    ${e.region ?? "-"}`,
    `  rule      ${e.rule}`,
  ];
  if (e.network) {
    const cls = e.network.class === null ? "no class" : `class ${e.network.class}`;
    lines.push(
      `  network   ${e.network.code} (${cls}; ${e.network.unsupported ? "unsupported" : "not restricted"})`,
    );
  }
  if (e.window) {
    lines.push(
      `  window    ${e.window.source}: warnFrom ${e.window.warnFrom ?? "none"}, blockFrom ${e.window.blockFrom ?? "never"}`,
    );
  }
  lines.push(`  outcome   ${e.outcome}`);
  return `${lines.join("\n")}\n`;
}

export const explain = command({
  name: "explain",
  brief: "--country CC [--region] [--asn] [--at] [--policy FILE]: decision and rule",
  summary:
    "Prints the decision the gate makes for a country (and subdivision, network, address, key, path, time), and the rule behind it.",
  args: [],
  options: {
    ...STORE_OPTIONS,
    country: { type: "string" },
    region: { type: "string" },
    asn: { type: "string" },
    at: { type: "string" },
    ip: { type: "string" },
    fingerprint: { type: "string" },
    path: { type: "string" },
    policy: { type: "string" },
    json: { type: "boolean" },
  },
  help: `Options:
  --country CC         edge country, as the edge sends it: ISO 3166-1 alpha-2 in upper case
                       (GB, not UK), XX unknown, T1 Tor; omit for "no country"
  --region CODE        ISO 3166-2 subdivision of the country: UA-43 or 43
  --asn N              the network the request comes through (request.cf.asn): 16509 or
                       AS16509; the explanation names its class
  --at TIME            decide at TIME (RFC 3339 or YYYY-MM-DD) instead of now
  --ip ADDRESS         client address (CF-Connecting-IP), for CIDR exemptions
  --fingerprint HEX    API-key fingerprint (see \`region-gate key fingerprint\`), for key exemptions
  --path PATH          request path (default: the first include prefix the gate judges)
  --policy FILE        decide with this file instead of the active policy
  --json               print the explanation as JSON (the admin API's shape)

${storeHelp}`,
  async run(io, values) {
    const parsed = parseExplainQuery(values, Date.now());
    if (!parsed.ok) {
      throw new CliError(
        EXIT.usage,
        "the case is not valid; fix these options:",
        parsed.problems.map((p) => `  --${p.param}: ${p.message}`),
      );
    }
    let doc = values.policy ? await loadPolicyFile(io, values.policy) : null;
    if (doc === null) {
      const backend = policyBackend(io, values);
      const active = await backend.active();
      if (active === null) {
        throw new CliError(
          EXIT.conflict,
          `no policy is active in ${backend.where}; push one, or pass --policy FILE`,
        );
      }
      const r = parsePolicy(active.content);
      if (!r.ok)
        throw new CliError(
          EXIT.invalid,
          `the active policy in ${backend.where} is invalid; push a valid one`,
        );
      doc = r.policy;
    }
    const explanation = explainCase(compilePolicy(doc), parsed.value);
    io.out(values.json ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation));
    return EXIT.ok;
  },
});
