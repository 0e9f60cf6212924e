#!/usr/bin/env node
/**
 * Serves one built Worker bundle with miniflare on 127.0.0.1:<port> until killed, for
 * `RUNTIME=miniflare node bench/gate-bench.mjs`. One process per target, so each target's
 * workerd is a child of its own process and its CPU can be read from /proc.
 *
 *   node bench/mf-serve.mjs <bundle.js> <port> '<json options>'
 *
 * Options: { bindings, kv: bool, policyFile, compatibilityDate, compatibilityFlags }.
 *
 * Unlike `wrangler dev`, the Worker's outgoing fetches go straight out: miniflare's
 * `stripCfConnectingIp` (on by default, and not configurable through wrangler) routes every
 * subrequest through a JavaScript worker in the same workerd that copies the request's
 * headers into a new `Headers` and builds a new `Request`, so its cost grows with every
 * header a worker forwards. Production strips `CF-Connecting-IP` natively; that dev-only
 * hop is left out here, for the bare worker and the gate alike.
 */
import { readFileSync } from "node:fs";
import { Miniflare } from "miniflare";

const [bundle, port, json] = process.argv.slice(2);
const options = JSON.parse(json ?? "{}");
const mf = new Miniflare({
  modules: true,
  scriptPath: bundle,
  compatibilityDate: options.compatibilityDate,
  compatibilityFlags: options.compatibilityFlags ?? [],
  ...(options.kv
    ? {
        kvNamespaces: ["POLICY"],
        durableObjects: { EXPOSURE: { className: "ExposureLedger", useSQLite: true } },
      }
    : {}),
  bindings: options.bindings ?? {},
  host: "127.0.0.1",
  port: Number(port),
  cf: false,
  stripCfConnectingIp: false,
});
await mf.ready;
if (options.policyFile) {
  const kv = await mf.getKVNamespace("POLICY");
  await kv.put("policy", readFileSync(options.policyFile, "utf8"));
}
console.log(`ready on http://127.0.0.1:${port}`);
const stop = async () => {
  await mf.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
