import { DurableObject } from "cloudflare:workers";

/** SQLite-backed exposure ledger (SPEC section 6). */
export class ExposureLedger extends DurableObject<Env> {}
