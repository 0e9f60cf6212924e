#!/usr/bin/env node
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
/** Bundles bench/decision-bench.ts with esbuild (Node cannot run TypeScript here) and runs it. */
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, ".tmp", "bench", "decision-bench.mjs");
await build({
  entryPoints: [join(root, "bench", "decision-bench.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile,
  logLevel: "warning",
});
await import(pathToFileURL(outfile).href);
