/**
 * The policy document (SPEC section 2, schema 1): one valibot schema for shapes and
 * codes. `validatePolicy` (./validate.ts) adds the cross-field rules valibot cannot
 * express per field. Policy text reaches both only through `parsePolicy` (./parse.ts), so
 * the worker, the admin API, the dashboard and the CLI give the same error lists.
 */
import * as v from "valibot";
import { asnOfCode, CLASS_NAME, isAsn } from "./asn";
import { parseCidr } from "./cidr";
import { isCountryCode, isSubdivisionCode } from "./codes";

export interface PolicyProblem {
  /** JSON path of the offending value, e.g. `$.enforcement.regions.CN.blockFrom`. */
  path: string;
  message: string;
  /** For text that is not JSON: where it stops being JSON (1-based), and that line with a caret. */
  line?: number;
  column?: number;
  excerpt?: string;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** True for an RFC 3339 timestamp with an explicit offset that names a real instant. */
export function isRfc3339(text: string): boolean {
  const m = RFC3339.exec(text);
  if (!m) return false;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  return (
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo! - 1 &&
    date.getUTCDate() === d &&
    h! < 24 &&
    mi! < 60 &&
    s! < 60 &&
    !Number.isNaN(Date.parse(text))
  );
}

const country = v.pipe(
  v.string("must be a string"),
  v.check(
    isCountryCode,
    (i) => `${JSON.stringify(i.input)} is not an ISO 3166-1 alpha-2 code (upper case, e.g. "DE")`,
  ),
);
const subdivision = v.pipe(
  v.string("must be a string"),
  v.check(
    isSubdivisionCode,
    (i) => `${JSON.stringify(i.input)} is not an ISO 3166-2 subdivision code (e.g. "UA-43")`,
  ),
);
const timestamp = v.nullable(
  v.pipe(
    v.string("must be an RFC 3339 timestamp or null"),
    v.check(
      isRfc3339,
      (i) =>
        `${JSON.stringify(i.input)} is not an RFC 3339 timestamp with an explicit offset (e.g. "2024-07-09T00:00:00Z")`,
    ),
  ),
);
const window = v.strictObject({ warnFrom: v.optional(timestamp), blockFrom: timestamp }, (i) =>
  i.expected === "never"
    ? `unknown field ${i.received}; allowed: warnFrom, blockFrom`
    : 'must be an object like {"warnFrom": "...", "blockFrom": "..."}',
);
const fingerprint = v.pipe(
  v.string("must be a string"),
  v.regex(/^[0-9a-f]{16}$/, "must be 16 lower-case hex characters (see `region-gate key fingerprint`)"),
);
const cidr = v.pipe(
  v.string("must be a string"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const parsed = parseCidr(dataset.value);
    if (typeof parsed === "string") addIssue({ message: `${JSON.stringify(dataset.value)}: ${parsed}` });
  }),
);
const asn = v.pipe(
  v.number("must be an ASN (an integer from 1 to 4294967295)"),
  v.check(
    (n: number) => isAsn(n),
    (i) => `${JSON.stringify(i.input)} is not an ASN; an ASN is an integer from 1 to 4294967295 (e.g. 16509)`,
  ),
);
const className = v.pipe(
  v.string("must be a string"),
  v.regex(
    CLASS_NAME,
    "must be a class name: a lower-case letter, then up to 31 of a-z, 0-9 and - (e.g. cloud)",
  ),
);
/** An entry of `networks.unsupported`: a class name or `AS<number>` (that a class exists is checked in ./validate.ts). */
const networkRef = v.pipe(
  v.string("must be a string"),
  v.check(
    (s) => CLASS_NAME.test(s) || asnOfCode(s) !== null,
    (i) =>
      `${JSON.stringify(i.input)} is neither a class name (e.g. "vpn") nor a network written AS<number> (e.g. "AS60068", 1 to 4294967295, no leading zeros)`,
  ),
);

const pathPrefix = v.pipe(
  v.string("must be a string"),
  v.startsWith("/", "must be a path prefix starting with /"),
);
/**
 * Headers that carry a credential or the client's address. The ledger stores identity
 * values as they arrive (and notices print them), so naming one of these would put secrets
 * (or addresses) into `/exposure` reports; the key is recorded only as its HMAC fingerprint.
 * `sec-websocket-protocol` is here because realtime clients carry their API key in it.
 */
export const FORBIDDEN_IDENTITY_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "sec-websocket-protocol",
  "cf-access-jwt-assertion",
  "x-api-key",
  "api-key",
  "cf-connecting-ip",
  "x-forwarded-for",
  "x-real-ip",
  "true-client-ip",
  "forwarded",
]);
/**
 * Parts of a header name that say it may carry a secret (`x-auth-token`, `x-goog-api-key`,
 * `x-amz-signature`, `x-session-id`): any name containing one is refused (SPEC section 2).
 */
export const SECRET_NAME_PARTS = [
  "auth",
  "key",
  "token",
  "secret",
  "session",
  "password",
  "cookie",
  "signature",
] as const;

/** Why `name` may not be an identity header, or null when it may. */
export function identityHeaderProblem(name: string): string | null {
  const lower = name.toLowerCase();
  const fix =
    "and the ledger must never store one; name a header such as openai-organization (the API key is already recorded as its fingerprint)";
  if (FORBIDDEN_IDENTITY_HEADERS.has(lower)) {
    return `${JSON.stringify(name)} carries a credential or the client's address, ${fix}`;
  }
  const part = SECRET_NAME_PARTS.find((p) => lower.includes(p));
  if (part !== undefined) {
    return `${JSON.stringify(name)} contains "${part}", so it may carry a secret, ${fix}`;
  }
  return null;
}

const headerName = v.pipe(
  v.string("must be a string"),
  v.regex(/^[a-z0-9!#$%&'*+.^_`|~-]+$/, "must be a lower-case HTTP header name (e.g. openai-organization)"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = identityHeaderProblem(dataset.value);
    if (problem !== null) addIssue({ message: problem });
  }),
);

/** `version` travels in response and origin headers: 1-128 visible ASCII characters. */
const VERSION = /^[!-~]{1,128}$/;
/** Control characters (C0, DEL and C1: Unicode category Cc). */
const CONTROL = /\p{Cc}/u;
export const MAX_ERROR_MESSAGE = 500;

/** An error message: it is written into the 403 body. */
const errorMessage = v.pipe(
  v.string("must be a string"),
  v.nonEmpty("must not be empty"),
  v.maxLength(MAX_ERROR_MESSAGE, `must be at most ${MAX_ERROR_MESSAGE} characters`),
  v.check((m) => !CONTROL.test(m), "must not contain control characters (newlines, tabs, NUL)"),
);

/** The normalised (WHATWG) form of an absolute https: URL, or null when `text` is not one. */
function httpsHref(text: string): string | null {
  try {
    const url = new URL(text);
    return url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

const docsUrl = v.pipe(
  v.string("must be a string"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const text = dataset.value;
    const href = httpsHref(text);
    // The URL parser drops tabs and newlines and encodes spaces, so compare with its output:
    // what is served in `Link` is then exactly what the author wrote.
    if (href === null) {
      addIssue({
        message: `${JSON.stringify(text)} is not an absolute https: URL (e.g. "https://example.com/regions")`,
      });
    } else if (href !== text) {
      addIssue({
        message: `${JSON.stringify(text)} is not written in its normalised form; write it as ${JSON.stringify(href)} (no spaces or control characters)`,
      });
    }
  }),
);

function strict<T extends v.ObjectEntries>(entries: T) {
  const allowed = Object.keys(entries).join(", ");
  return v.strictObject(entries, (i) =>
    i.expected === "never" ? `unknown field ${i.received}; allowed: ${allowed}` : "must be an object",
  );
}

export const PolicySchema = strict({
  schema: v.literal(1, "must be 1 (the only schema version)"),
  version: v.pipe(
    v.string("must be a string"),
    v.regex(
      VERSION,
      "must be 1-128 visible ASCII characters (! to ~, no spaces or control characters): it is sent in response headers",
    ),
  ),
  supported: v.array(country, "must be an array of ISO 3166-1 alpha-2 codes"),
  unsupportedSubdivisions: v.optional(v.array(subdivision, "must be an array of ISO 3166-2 codes")),
  enforcement: v.optional(
    strict({
      default: v.optional(window),
      regions: v.optional(v.record(v.string(), window, "must be an object keyed by region code")),
      // Keys (a defined class or AS<number>) are checked in ./validate.ts, with the classes at hand.
      networks: v.optional(
        v.record(v.string(), window, "must be an object keyed by class name or AS<number>"),
      ),
    }),
  ),
  networks: v.optional(
    strict({
      classes: v.optional(
        v.record(
          className,
          v.array(asn, "must be an array of ASNs (integers, e.g. [16509, 15169])"),
          "must be an object mapping class names to arrays of ASNs",
        ),
      ),
      unsupported: v.optional(v.array(networkRef, "must be an array of class names and AS<number>s")),
    }),
  ),
  mode: v.optional(v.picklist(["enforce", "monitor"], 'must be "enforce" or "monitor"')),
  unknownCountry: v.optional(v.picklist(["allow", "block"], 'must be "allow" or "block"')),
  tor: v.optional(v.picklist(["allow", "block"], 'must be "allow" or "block"')),
  scope: v.optional(
    strict({
      include: v.optional(v.array(pathPrefix, "must be an array of path prefixes")),
      exclude: v.optional(v.array(pathPrefix, "must be an array of path prefixes")),
    }),
  ),
  exemptions: v.optional(
    v.array(
      strict({
        apiKeyFingerprint: v.optional(fingerprint),
        cidr: v.optional(cidr),
        asn: v.optional(asn),
        until: v.optional(timestamp),
        note: v.optional(v.string("must be a string")),
      }),
      "must be an array",
    ),
  ),
  identity: v.optional(strict({ headers: v.optional(v.array(headerName, "must be an array")) })),
  error: v.optional(
    strict({
      message: v.optional(errorMessage),
      networkMessage: v.optional(errorMessage),
      docsUrl: v.optional(docsUrl),
    }),
  ),
});

export type PolicyDocument = v.InferOutput<typeof PolicySchema>;
