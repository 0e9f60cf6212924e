/**
 * region-gate-control, the control plane (SPEC section 1; ../../README.md): the admin API,
 * dashboard and self-check under `/__region-gate`, reached through the gate's CONTROL
 * service binding or a route of its own, and the ExposureLedger Durable Object class that
 * both Workers bind. Nothing here is on the API's request path.
 */
import { errorResponse } from "../platform/errors";
import { admin } from "./admin";
import { newApp } from "./app";
import { dashboard } from "./dashboard";
import { selfCheck } from "./selfcheck";

/** The admin prefix (SPEC section 7). */
const ADMIN_PREFIX = "/__region-gate";

const app = newApp();
app.route(`${ADMIN_PREFIX}/check`, selfCheck);
app.route(`${ADMIN_PREFIX}/dashboard`, dashboard);
app.route(ADMIN_PREFIX, admin);
// Only under the prefix: on a hostname of its own, `/` and the rest are not the control plane's.
app.notFound(() => errorResponse("not_found"));

export default app;

export { ExposureLedger } from "./ledger/ledger-do";
