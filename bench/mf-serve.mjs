#!/usr/bin/env node
/**
 * Serves one built Worker bundle with miniflare on 127.0.0.1:<port> until killed, for
 * `RUNTIME=miniflare node bench/gate-bench.mjs`. One process per target, so each target's
 * workerd is a child of its own process and its CPU can be read from /proc.
 *
 *   node bench/mf-serve.mjs <bundle.js> <port> '<json options>'
 *
 * Options: { bindings, kv: bool, policyFile, compatibilityDate, compatibilityFlags, control }.
 * With `kv`, the bundle gets the POLICY namespace and the ledger's Durable Object: defined by
 * the bundle itself (bench/gate-worker.mjs exports the class), or, with `control` (the path
 * of the control plane's build, dist/control/index.js), by that second worker in the same
 * workerd, which the bundle reaches by script name and through its CONTROL service binding,
 * as the two deploy artefacts run (test/e2e/harness.ts, planesOptions()):
 *
 *   node bench/mf-serve.mjs dist/gate/index.js 18800 '{"kv":true,"control":"dist/control/index.js","bindings":{"ORIGIN_URL":"http://127.0.0.1:18790"}}'
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
const CONTROL = "region-gate-control";
const runtime = {
  modules: true,
  compatibilityDate: options.compatibilityDate,
  compatibilityFlags: options.compatibilityFlags ?? [],
  stripCfConnectingIp: false,
};
const ledger = { className: "ExposureLedger", useSQLite: true };
const served = {
  ...runtime,
  name: "served",
  scriptPath: bundle,
  ...(options.kv
    ? {
        kvNamespaces: { POLICY: "policy" },
        durableObjects: { EXPOSURE: options.control ? { ...ledger, scriptName: CONTROL } : ledger },
        ...(options.control ? { serviceBindings: { CONTROL } } : {}),
      }
    : {}),
  bindings: options.bindings ?? {},
};
const control = options.control && {
  ...runtime,
  name: CONTROL,
  scriptPath: options.control,
  kvNamespaces: { POLICY: "policy" },
  durableObjects: { EXPOSURE: ledger },
  bindings: options.bindings ?? {},
};
const mf = new Miniflare({
  workers: control ? [served, control] : [served],
  host: "127.0.0.1",
  port: Number(port),
  cf: false,
});
await mf.ready;
if (options.policyFile) {
  const kv = await mf.getKVNamespace("POLICY", "served");
  await kv.put("policy", readFileSync(options.policyFile, "utf8"));
}
console.log(`ready on http://127.0.0.1:${port}`);
const stop = async () => {
  await mf.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
