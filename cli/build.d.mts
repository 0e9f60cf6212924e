/** Path of the bundled CLI (cli/dist/region-gate.mjs). */
export const OUTFILE: string;
/** Bundles cli/main.ts into OUTFILE with esbuild. */
export function buildCli(): Promise<void>;
