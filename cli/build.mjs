// Bundles the CLI (cli/main.ts and the worker modules it imports) into one ESM file for Node.
import { build } from "esbuild";

export const OUTFILE = new URL("./dist/region-gate.mjs", import.meta.url).pathname;

/** Builds cli/dist/region-gate.mjs; wrangler stays external (the CLI runs it as a process). */
export async function buildCli() {
  await build({
    entryPoints: [new URL("./main.ts", import.meta.url).pathname],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: OUTFILE,
    logLevel: "warning",
    legalComments: "none",
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await buildCli();
