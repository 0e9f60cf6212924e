// Bundles the CLI (cli/main.ts and the worker modules it imports) into one ESM file for Node.
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { build } from "esbuild";

export const OUTFILE = new URL("./dist/region-gate.mjs", import.meta.url).pathname;

/**
 * Builds cli/dist/region-gate.mjs. Written to a temporary file and renamed, so a
 * concurrent `region-gate` run (parallel test files) never imports half a bundle.
 */
export async function buildCli() {
  const result = await build({
    entryPoints: [new URL("./main.ts", import.meta.url).pathname],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: OUTFILE,
    write: false,
    logLevel: "warning",
    legalComments: "none",
  });
  const [output] = result.outputFiles;
  const temp = `${OUTFILE}.${process.pid}.tmp`;
  await mkdir(dirname(OUTFILE), { recursive: true });
  await writeFile(temp, output.contents);
  await rename(temp, OUTFILE);
}

if (import.meta.url === `file://${process.argv[1]}`) await buildCli();
