/**
 * Networks as the policy names them (SPEC section 2): ASNs, `AS<number>` codes and class
 * names. No schema library here: the decision, `explain` and the CLI share these.
 */

/** Largest ASN (RFC 6793: four octets). */
export const MAX_ASN = 4_294_967_295;
/** `AS<number>` as the gate writes it: no leading zeros, 1 to MAX_ASN (checked by `asnOfCode`). */
const AS_CODE = /^AS[1-9][0-9]{0,9}$/;
/** A network class name (SPEC section 2). */
export const CLASS_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** True for an autonomous system number a network can have: an integer 1..4294967295. */
export const isAsn = (n: unknown): n is number =>
  typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= MAX_ASN;

/** The number of an `AS<number>` code (`AS16509` → 16509), or null when `code` is not one. */
export function asnOfCode(code: string): number | null {
  if (!AS_CODE.test(code)) return null;
  const n = Number(code.slice(2));
  return n <= MAX_ASN ? n : null;
}
