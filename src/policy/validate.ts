/**
 * Validation of a parsed policy: the schema's shape issues (./schema.ts) plus the rules
 * across fields, each with its JSON path, all of them at once.
 */
import * as v from "valibot";
import { asnOfCode, CLASS_NAME, isAsn } from "./asn";
import { isCountryCode, isSubdivisionCode } from "./codes";
import { isRfc3339, type PolicyDocument, type PolicyProblem, PolicySchema } from "./schema";
import { excludedBy } from "./scope";

export type ValidationResult = { ok: true; policy: PolicyDocument } | { ok: false; errors: PolicyProblem[] };

function pathOf(items: readonly v.IssuePathItem[] | undefined): string {
  let out = "$";
  for (const item of items ?? []) {
    const key = item.key;
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);
const strings = (x: unknown): string[] =>
  Array.isArray(x) ? x.filter((s): s is string => typeof s === "string") : [];

function duplicates(list: unknown, path: string, problems: PolicyProblem[]): void {
  if (!Array.isArray(list)) return;
  const seen = new Map<string, number>();
  list.forEach((item, i) => {
    // Objects and arrays are type errors reported by the schema; stringifying them could
    // also overflow the stack on hostile nesting, so only primitives are compared.
    if (typeof item === "object" && item !== null) return;
    const key = `${typeof item}:${String(item)}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else problems.push({ path: `${path}[${i}]`, message: `duplicate of ${path}[${first}]` });
  });
}

function checkWindow(w: unknown, path: string, problems: PolicyProblem[]): void {
  if (!isObject(w)) return;
  const { warnFrom, blockFrom } = w;
  if (
    typeof warnFrom === "string" &&
    typeof blockFrom === "string" &&
    isRfc3339(warnFrom) &&
    isRfc3339(blockFrom)
  ) {
    if (Date.parse(warnFrom) > Date.parse(blockFrom)) {
      problems.push({
        path: `${path}.warnFrom`,
        message: `warnFrom (${warnFrom}) is after blockFrom (${blockFrom})`,
      });
    }
  }
}

/**
 * A scope must leave something to judge. An include prefix is covered when an exclude
 * prefix covers it on segment boundaries (`excludedBy`, compared lower-cased, as the gate
 * compares paths): every path it matches is then excluded too, so `/v1/health` covers the
 * include `/v1/health/` but not `/v1/healthz`. Reported on `include` when all are covered.
 */
function scopeJudgesNothing(scope: Record<string, unknown>): PolicyProblem[] {
  if (!Array.isArray(scope.include)) return [];
  if (scope.include.length === 0) {
    return [
      {
        path: "$.scope.include",
        message:
          'must list at least one path prefix; an empty include judges no request (omit scope to judge every path, i.e. ["/"])',
      },
    ];
  }
  const include = strings(scope.include).map((p) => p.toLowerCase());
  const exclude = strings(scope.exclude).map((p) => p.toLowerCase());
  if (include.length < scope.include.length || exclude.length === 0) return [];
  const coveredBy = include.map((p) => excludedBy(p, exclude));
  if (coveredBy.some((e) => e === undefined)) return [];
  return [
    {
      path: "$.scope.include",
      message: `every include prefix is also excluded (${include.map((p, i) => `${JSON.stringify(p)} by ${JSON.stringify(coveredBy[i])}`).join(", ")}), so the gate would judge no request; narrow scope.exclude`,
    },
  ];
}

const keyPath = (...keys: string[]) => pathOf(keys.map((key) => ({ key })) as v.IssuePathItem[]);

/**
 * The network rules across fields (SPEC section 2): an ASN sits in one class only, and
 * `networks.unsupported` and `enforcement.networks` name defined classes or `AS<number>`s.
 */
function networkChecks(doc: Record<string, unknown>, problems: PolicyProblem[]): void {
  const networks = isObject(doc.networks) ? doc.networks : {};
  const classes = isObject(networks.classes) ? networks.classes : {};
  const classOf = new Map<number, string>();
  for (const [name, list] of Object.entries(classes)) {
    if (!Array.isArray(list)) continue;
    const path = keyPath("networks", "classes", name);
    duplicates(list, path, problems);
    list.forEach((n, i) => {
      if (!isAsn(n)) return;
      const other = classOf.get(n);
      if (other === undefined) classOf.set(n, name);
      else if (other !== name) {
        problems.push({
          path: `${path}[${i}]`,
          message: `AS${n} is already in class ${JSON.stringify(other)}; an ASN may sit in one class only, so remove it from one of them`,
        });
      }
    });
  }
  const defined = (name: string) => CLASS_NAME.test(name) && Object.hasOwn(classes, name);
  const names = Object.keys(classes).filter(defined);
  const undefinedClass = (name: string) =>
    `class ${JSON.stringify(name)} is not defined; add it to networks.classes${
      names.length > 0 ? ` (defined: ${names.join(", ")})` : ""
    }, or write a single network as AS<number>`;
  duplicates(networks.unsupported, "$.networks.unsupported", problems);
  strings(networks.unsupported).forEach((ref, i) => {
    if (CLASS_NAME.test(ref) && !defined(ref)) {
      problems.push({ path: `$.networks.unsupported[${i}]`, message: undefinedClass(ref) });
    }
  });

  const enforcement = isObject(doc.enforcement) ? doc.enforcement : {};
  if (!isObject(enforcement.networks)) return;
  for (const [key, w] of Object.entries(enforcement.networks)) {
    const path = keyPath("enforcement", "networks", key);
    checkWindow(w, path, problems);
    if (asnOfCode(key) !== null || defined(key)) continue;
    problems.push({
      path,
      message: CLASS_NAME.test(key)
        ? undefinedClass(key)
        : `${JSON.stringify(key)} is neither a class name nor a network written AS<number> (e.g. "AS60068", 1 to 4294967295, no leading zeros)`,
    });
  }
}

/** Rules across fields; runs on the raw input so they are reported alongside shape errors. */
function crossChecks(doc: Record<string, unknown>): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  duplicates(doc.supported, "$.supported", problems);
  duplicates(doc.unsupportedSubdivisions, "$.unsupportedSubdivisions", problems);
  const scope = isObject(doc.scope) ? doc.scope : {};
  duplicates(scope.include, "$.scope.include", problems);
  duplicates(scope.exclude, "$.scope.exclude", problems);
  problems.push(...scopeJudgesNothing(scope));
  duplicates(isObject(doc.identity) ? doc.identity.headers : undefined, "$.identity.headers", problems);

  const supported = new Set(strings(doc.supported));
  const carved = new Set(strings(doc.unsupportedSubdivisions));
  strings(doc.unsupportedSubdivisions).forEach((code, i) => {
    const parent = code.split("-")[0] ?? "";
    if (isSubdivisionCode(code) && !supported.has(parent)) {
      problems.push({
        path: `$.unsupportedSubdivisions[${i}]`,
        message: `${code} is inside ${parent}, which is not supported anyway; list only subdivisions of supported countries`,
      });
    }
  });

  networkChecks(doc, problems);

  const enforcement = isObject(doc.enforcement) ? doc.enforcement : {};
  checkWindow(enforcement.default, "$.enforcement.default", problems);
  if (isObject(enforcement.regions)) {
    for (const [code, w] of Object.entries(enforcement.regions)) {
      const path = pathOf([{ key: "enforcement" }, { key: "regions" }, { key: code }] as v.IssuePathItem[]);
      checkWindow(w, path, problems);
      const isSub = code.includes("-");
      if (isSub ? !isSubdivisionCode(code) : !isCountryCode(code)) {
        problems.push({
          path,
          message: `${JSON.stringify(code)} is not an ISO 3166-1 alpha-2 or ISO 3166-2 code`,
        });
      } else if (isSub ? supported.has(code.split("-")[0]!) && !carved.has(code) : supported.has(code)) {
        problems.push({
          path,
          message: `${code} is supported, so it cannot have an enforcement entry; remove it from supported${isSub ? " or add it to unsupportedSubdivisions" : ""}, or drop this entry`,
        });
      }
    }
  }

  if (Array.isArray(doc.exemptions)) {
    doc.exemptions.forEach((e, i) => {
      if (!isObject(e)) return;
      const ways = [e.apiKeyFingerprint, e.cidr, e.asn].filter((x) => x !== undefined).length;
      if (ways !== 1) {
        problems.push({
          path: `$.exemptions[${i}]`,
          message: "an exemption needs exactly one of apiKeyFingerprint, cidr or asn",
        });
      }
    });
    duplicates(
      doc.exemptions.map((e) => (isObject(e) ? (e.apiKeyFingerprint ?? e.cidr ?? e.asn) : e)),
      "$.exemptions",
      problems,
    );
  }
  return problems;
}

/**
 * Validates a parsed JSON value against schema 1 and returns every problem with its
 * JSON path, never just the first.
 *
 * @example validatePolicy({ schema: 1, version: "x", supported: ["DE", "de"] })
 *   // → { ok: false, errors: [{ path: "$.supported[1]", message: '"de" is not an ISO 3166-1 ...' }] }
 */
export function validatePolicy(input: unknown): ValidationResult {
  if (!isObject(input)) {
    return { ok: false, errors: [{ path: "$", message: "a policy must be a JSON object" }] };
  }
  const result = v.safeParse(PolicySchema, input, { abortEarly: false });
  const errors: PolicyProblem[] = (result.issues ?? []).map((issue) => ({
    path: pathOf(issue.path),
    message: issue.message,
  }));
  errors.push(...crossChecks(input));
  if (errors.length > 0 || !result.success) {
    const seen = new Set<string>();
    const unique = errors.filter((e) => {
      const key = `${e.path}\n${e.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    return { ok: false, errors: unique };
  }
  return { ok: true, policy: result.output };
}
