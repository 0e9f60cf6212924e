/**
 * The shapes of the admin API's answers (SPEC section 7), checked before the CLI uses one.
 * A URL that answers 200 with some other JSON (an origin, another app behind the same
 * host) must be reported as such, not printed as a policy or crash on a missing field.
 */
import * as v from "valibot";

const activation = v.looseObject({
  at: v.string(),
  by: v.string(),
  via: v.picklist(["push", "rollback"]),
});

/** `GET /policy/history`. */
export const HISTORY = v.looseObject({
  active: v.nullable(v.looseObject({ version: v.string(), sha256: v.string() })),
  versions: v.array(
    v.looseObject({
      version: v.string(),
      sha256: v.string(),
      active: v.boolean(),
      activatedAt: v.nullable(v.string()),
      activations: v.array(activation),
    }),
  ),
});

/** A successful `PUT /policy` or `POST /policy/rollback` (refusals are error answers). */
export const WRITTEN = v.looseObject({
  ok: v.literal(true),
  changed: v.boolean(),
  version: v.string(),
  sha256: v.string(),
  etag: v.string(),
});

/** `GET /exposure` as JSON: rows, or per-region totals with `summary=1`. */
export const EXPOSURE = v.union([
  v.looseObject({ rows: v.array(v.record(v.string(), v.unknown())) }),
  v.looseObject({ summary: v.array(v.record(v.string(), v.unknown())) }),
]);

const counts = v.record(v.string(), v.number());
const nextStep = v.looseObject({
  action: v.picklist(["warn", "block", "blocked", "none", "supported"]),
  at: v.nullable(v.string()),
  blockAt: v.nullable(v.string()),
  text: v.string(),
  monitorOnly: v.boolean(),
});

const noticeRegion = v.looseObject({
  region: v.string(),
  name: v.string(),
  firstDay: v.string(),
  lastDay: v.string(),
  dayList: v.array(v.string()),
  days: v.number(),
  requests: v.number(),
  decisions: counts,
  networks: v.array(
    v.looseObject({
      network: v.string(),
      name: v.nullable(v.string()),
      class: v.nullable(v.string()),
      requests: v.number(),
    }),
  ),
  cloudRequests: v.number(),
  cappedDays: v.array(v.string()),
  next: nextStep,
});

/** `GET /exposure/notices` as JSON: the fields the CLI renders notices from. */
export const NOTICES = v.looseObject({
  meta: v.looseObject({
    provider: v.string(),
    policyVersion: v.string(),
    docsUrl: v.nullable(v.string()),
    checkUrl: v.nullable(v.string()),
    contact: v.nullable(v.string()),
    from: v.nullable(v.string()),
    to: v.nullable(v.string()),
    generatedAt: v.string(),
  }),
  notices: v.array(
    v.looseObject({
      fingerprint: v.string(),
      identities: v.array(v.record(v.string(), v.string())),
      firstDay: v.string(),
      lastDay: v.string(),
      requests: v.number(),
      decisions: counts,
      nextDate: v.nullable(v.string()),
      exemption: v.nullable(v.looseObject({ until: v.nullable(v.string()) })),
      regions: v.array(noticeRegion),
      unrestricted: v.array(noticeRegion),
    }),
  ),
  next: v.nullable(v.string()),
});

/** `GET /healthz`: what tells a region-gate apart from anything else at the URL. */
export const HEALTHZ = v.looseObject({
  ok: v.boolean(),
  policyVersion: v.nullable(v.string()),
  policyAgeSeconds: v.nullable(v.number()),
});

/** The admin API's error envelope. */
export const ERROR = v.looseObject({
  error: v.looseObject({ message: v.string(), code: v.string() }),
  errors: v.optional(v.array(v.looseObject({ path: v.string(), message: v.string() }))),
});
