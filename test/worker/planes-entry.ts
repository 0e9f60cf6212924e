/**
 * The `worker` test project's main module: both planes in one workerd test worker. The
 * default export is the data plane's entry (src/gate/index.ts); `Control` is the control
 * plane's entry as a named entrypoint, which the project's CONTROL service binding points
 * at, as the deployed gate's binding points at region-gate-control; and the ledger's
 * Durable Object class, which the control plane defines.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import control from "../../src/control/index";
import type { ControlEnv } from "../../src/platform/config";

export { ExposureLedger } from "../../src/control/index";
export { default } from "../../src/gate/index";

export class Control extends WorkerEntrypoint<ControlEnv> {
  override fetch(request: Request): Promise<Response> {
    return Promise.resolve(control.fetch(request, this.env, this.ctx));
  }
}
