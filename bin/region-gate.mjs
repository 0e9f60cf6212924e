#!/usr/bin/env node
// `npx region-gate`: runs the bundled CLI, building it first if `npm ci` has not (see cli/build.mjs).
import { existsSync } from "node:fs";

const bundle = new URL("../cli/dist/region-gate.mjs", import.meta.url);
if (!existsSync(bundle)) {
  const { buildCli } = await import("../cli/build.mjs");
  await buildCli();
}
const { main } = await import(bundle.href);
await main();
