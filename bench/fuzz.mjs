#!/usr/bin/env node
/**
 * Long fuzz run (issue 5): the properties of test/unit/fuzz-properties.ts (validator,
 * compiler, strict JSON, decision) with as many runs as asked and a fresh seed, printed so
 * a failure can be replayed. `npm test` runs the same properties with a fixed seed.
 *
 *   node bench/fuzz.mjs                       # 20 000 runs per property, random seed
 *   RUNS=200000 SEED=42 node bench/fuzz.mjs   # longer, reproducible
 *
 * Exits non-zero on the first counterexample, with fast-check's shrunk case and seed/path.
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = Number(process.env.RUNS ?? 20_000);
const SEED = process.env.SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.SEED);

// tsx is not a dependency: bundle the TypeScript properties (with fast-check) to a temp module.
const out = join(root, ".tmp", "fuzz");
mkdirSync(out, { recursive: true });
await build({
  stdin: {
    contents:
      'export { FUZZ_PROPERTIES } from "./test/unit/fuzz-properties.ts"; export { default as fc } from "fast-check";',
    resolveDir: root,
    loader: "ts",
  },
  bundle: true,
  format: "esm",
  platform: "node",
  outfile: join(out, "properties.mjs"),
  logLevel: "error",
});
const { FUZZ_PROPERTIES, fc } = await import(pathToFileURL(join(out, "properties.mjs")).href);

console.log(`fuzz: seed ${SEED}, ${RUNS} runs per property (divided by each property's weight)`);
let failed = false;
const started = performance.now();
for (const { name, property, weight } of FUZZ_PROPERTIES) {
  const numRuns = Math.max(1, Math.round(RUNS / weight));
  const t = performance.now();
  const details = fc.check(property, { seed: SEED, numRuns });
  const ms = (performance.now() - t).toFixed(0);
  if (details.failed) {
    failed = true;
    console.log(`FAIL ${name}\n${fc.defaultReportMessage(details)}`);
  } else {
    console.log(`ok   ${name}: ${details.numRuns} runs in ${ms} ms`);
  }
}
console.log(
  `fuzz: ${failed ? "FAILED" : "passed"} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
process.exit(failed ? 1 : 0);
