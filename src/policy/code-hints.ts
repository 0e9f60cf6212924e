/**
 * Why a code typed by a person is not one the edge sends, and the code they probably
 * meant: `UK` → GB, `jp` → JP, `DEU` → DE, `UA-5` → UA-05. Used by `explain` (admin route
 * and CLI), where a mistyped code would otherwise be judged as some unsupported country.
 * Only error paths call this, never the request path.
 */
import { isCountryCode, isSubdivisionCode } from "./codes";
import { ISO_3166_1, ISO_3166_1_ALPHA3, ISO_3166_2 } from "./iso-codes";

/** Codes in common use that ISO 3166-1 reserves rather than assigns. */
const ALIASES: Record<string, string> = { UK: "GB", EL: "GR" };
/** What the edge sends besides real codes: unknown (`XX`) and Tor (`T1`). */
const EDGE_CODES = new Set(["XX", "T1"]);

const isEdgeCountry = (code: string) => isCountryCode(code) || EDGE_CODES.has(code);

/** The country code `input` most likely means, or null. */
export function suggestCountry(input: string): string | null {
  const upper = input.toUpperCase();
  if (upper !== input && isEdgeCountry(upper)) return upper;
  const alias = ALIASES[upper];
  if (alias) return alias;
  const i = upper.length === 3 ? ISO_3166_1_ALPHA3.split(",").indexOf(upper) : -1;
  return i === -1 ? null : (ISO_3166_1.split(",")[i] ?? null);
}

/**
 * Null when `code` is a country code the edge sends (ISO 3166-1 alpha-2 in upper case,
 * `XX`, `T1`); otherwise what is wrong with it.
 */
export function countryProblem(code: string): string | null {
  if (isEdgeCountry(code)) return null;
  const hint = suggestCountry(code);
  return `${JSON.stringify(code)} is not an ISO 3166-1 alpha-2 code${hint ? `; did you mean ${hint}?` : ""} (use upper-case ISO 3166-1 alpha-2, e.g. CN, XX for unknown or T1 for Tor)`;
}

/** The ISO 3166-2 codes of `country` (`UA-05`, …), sorted; empty when ISO lists none. */
export function subdivisionsOf(country: string): string[] {
  const group = ISO_3166_2.split(";").find((g) => g.startsWith(`${country}:`));
  return group
    ? group
        .slice(country.length + 1)
        .split(",")
        .map((s) => `${country}-${s}`)
    : [];
}

/**
 * Null when `sub` (the part after `C-`) names a subdivision of the valid `country`;
 * otherwise what is wrong, with the code meant where one is close (case, a missing
 * leading zero) or else some of the country's codes.
 */
export function subdivisionProblem(country: string, given: string, sub: string): string | null {
  const full = `${country}-${sub}`;
  const exact = given === sub || given === full;
  if (exact && isSubdivisionCode(full)) return null;
  const padded = /^\d{1,2}$/.test(sub) ? [sub.padStart(2, "0"), sub.padStart(3, "0")] : [];
  const meant = [sub.toUpperCase(), ...padded].find((s) => isSubdivisionCode(`${country}-${s}`));
  if (meant !== undefined) {
    const hint = given.includes("-") ? `${country}-${meant}` : meant;
    return `${JSON.stringify(given)} is not an ISO 3166-2 code of ${country}; did you mean ${hint}?`;
  }
  const known = subdivisionsOf(country);
  if (known.length === 0) return `${country} has no ISO 3166-2 subdivisions; leave the region out`;
  const some =
    known.length > 8 ? `${known.slice(0, 8).join(", ")}, … (${known.length} in all)` : known.join(", ");
  return `${JSON.stringify(given)} is not an ISO 3166-2 subdivision of ${country}; its codes are ${some}`;
}
