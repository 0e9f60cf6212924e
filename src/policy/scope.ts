/**
 * What a scope prefix covers (SPEC section 2), in one place: the decision, `explain`, the
 * validator's "exclude covers every include" rule, the self-check and the dashboard all
 * compare prefixes with these, so none of them can read a prefix differently.
 */

/**
 * True when `prefix` covers `path` (both lower-cased by the caller), SPEC section 2: a
 * prefix ending in `/` covers every path that starts with it; a prefix without a trailing
 * `/` covers that path and the paths below it, on segment boundaries: `/v1/health` covers
 * `/v1/health` and `/v1/health/deep`, never `/v1/healthz` or `/v1/health-records`.
 *
 * @example coversPath("/v1/health", "/v1/healthz") // false
 */
export function coversPath(prefix: string, path: string): boolean {
  return (
    path.startsWith(prefix) &&
    (path.length === prefix.length || prefix.endsWith("/") || path.charCodeAt(prefix.length) === 47) // "/"
  );
}

/**
 * True when an include prefix covers `path`. An include prefix ending in `/` also covers
 * its path without the slash (`/v1/` covers `/v1`, which origins often serve alike): for
 * include, erring towards "in scope" is the safe side. Exclude prefixes get no such
 * widening (`anyCovers`): an exclude never covers more than SPEC section 2 says.
 */
export function includeCovers(include: readonly string[], path: string): boolean {
  for (const prefix of include) {
    if (coversPath(prefix, path)) return true;
    if (prefix.length === path.length + 1 && prefix.endsWith("/") && prefix.startsWith(path)) return true;
  }
  return false;
}

/** True when some prefix of `prefixes` covers `path` (`coversPath`). */
export function anyCovers(prefixes: readonly string[], path: string): boolean {
  for (const prefix of prefixes) if (coversPath(prefix, path)) return true;
  return false;
}

/**
 * The exclude prefix that covers the include prefix `include` (read as a path, both
 * lower-cased), or undefined when none does. An exclude prefix that covers the include
 * prefix as a path covers every path that include prefix covers (`/v1/health` covers the
 * include `/v1/health/` and `/v1/health`, not `/v1/healthz`). The `/v1` that an include
 * `/v1/` also matches is not asked for: such an include judges nothing real.
 */
export function excludedBy(include: string, exclude: readonly string[]): string | undefined {
  return exclude.find((e) => coversPath(e, include));
}

/**
 * The path `explain`, the self-check, notices and the dashboard decide for when none is
 * given: the first include prefix that the gate judges, so a scope such as include
 * `["/v1/health", "/v1/"]`, exclude `["/v1/health"]` is shown by `/v1/`, not by a prefix
 * the gate never judges. Falls back to the first include prefix (then `/`).
 */
export function judgedPath(include: readonly string[], exclude: readonly string[]): string {
  return include.find((p) => excludedBy(p.toLowerCase(), exclude) === undefined) ?? include[0] ?? "/";
}
