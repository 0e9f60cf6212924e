import { ISO_3166_1, ISO_3166_2 } from "./iso-codes";

/**
 * Country codes Cloudflare can put in `request.cf.country` that are not in ISO 3166-1
 * proper: `XK` (Kosovo, user-assigned but used by Cloudflare and most providers).
 * `XX` (unknown) and `T1` (Tor) are handled by `unknownCountry` and `tor`, not here.
 */
const EXTRA_COUNTRIES = ["XK"];

const countries = new Set([...ISO_3166_1.split(","), ...EXTRA_COUNTRIES]);
let subdivisions: Set<string> | undefined;

/** Every country code a policy may name (ISO 3166-1 alpha-2 and XK), sorted: the dashboard's map. */
export const countryCodes = (): string[] => [...countries].sort();

/** True for a real ISO 3166-1 alpha-2 code (upper case), e.g. `isCountryCode("DE")`. */
export function isCountryCode(code: string): boolean {
  return countries.has(code);
}

/** True for a real ISO 3166-2 subdivision code (upper case), e.g. `isSubdivisionCode("UA-43")`. */
export function isSubdivisionCode(code: string): boolean {
  // Built on first use: only validation needs it, never the request path.
  if (!subdivisions) {
    subdivisions = new Set();
    for (const group of ISO_3166_2.split(";")) {
      const [cc, subs] = group.split(":") as [string, string];
      for (const sub of subs.split(",")) subdivisions.add(`${cc}-${sub}`);
    }
  }
  return subdivisions.has(code);
}
