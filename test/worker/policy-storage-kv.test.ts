/** The admin API's storage (src/policy/kv-storage.ts) against the shared PolicyStorage cases, on real KV. */
import { env } from "cloudflare:test";
import { kvStorage } from "../../src/store/kv-storage";
import { policyStorageConformance } from "../fixtures/policy-storage-conformance";

policyStorageConformance("KV binding (kvStorage)", () => kvStorage(env.POLICY));
