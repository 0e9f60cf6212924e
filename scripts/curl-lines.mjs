/**
 * The curl lines `npm start` prints once the gate answers. README "Try it locally" shows
 * the same lines for the default port; test/unit/docs.test.ts keeps the two equal.
 */

/** The lines, with `base` as the gate's URL (e.g. http://127.0.0.1:8787). */
export function curlLines(base) {
  const blob = (facts) => `-H 'MF-CF-Blob: ${JSON.stringify(facts)}'`;
  return [
    "# pass: JP is supported, Amazon (AS16509) is in the cloud class, which only labels traffic → the origin's answer, unchanged",
    `curl -i --compressed ${base}/v1/models ${blob({ country: "JP", asn: 16509, asOrganization: "Amazon.com" })}`,
    "# network: JP is supported, AS9009 is not (its warn window) → origin's answer + Sunset, Deprecation, Link, x-region-gate-decision: warn",
    `curl -i --compressed ${base}/v1/models ${blob({ country: "JP", asn: 9009, asOrganization: "M247 Europe SRL" })}`,
    "# warn: VE is unsupported, inside its warn window → origin's answer + Sunset, Deprecation, Link, x-region-gate-decision: warn",
    `curl -i --compressed ${base}/v1/models ${blob({ country: "VE" })}`,
    "# block: CN is blocked → 403 from the gate, the origin never sees it",
    `curl -i --compressed ${base}/v1/models ${blob({ country: "CN" })}`,
    "# a carved-out subdivision of a supported country (Crimea) → 403, x-region-gate-region: UA-43",
    `curl -i --compressed ${base}/v1/models ${blob({ country: "UA", regionCode: "43" })}`,
    "# streaming passes chunk by chunk",
    `curl -N --compressed '${base}/v1/stream?n=3&delay=300' ${blob({ country: "JP" })}`,
  ].join("\n");
}
