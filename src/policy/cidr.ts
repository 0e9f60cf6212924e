/**
 * IPv4 and IPv6 address and CIDR parsing. Addresses become bigints (IPv4 in the
 * IPv4-mapped IPv6 range) so one comparison serves both families.
 */

const V4_MAPPED = 0xffff00000000n;

const V4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** Parses a dotted-quad IPv4 address into an unsigned 32-bit number, or null. */
export function parseIpv4(text: string): number | null {
  const m = V4.exec(text);
  if (!m) return null;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value;
}

function parseV4(text: string): bigint | null {
  const n = parseIpv4(text);
  return n === null ? null : BigInt(n);
}

function parseV6(text: string): bigint | null {
  let head = text;
  let tailV4: bigint | null = null;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    tailV4 = parseV4(text.slice(lastColon + 1));
    if (tailV4 === null) return null;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const toGroups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = toGroups(halves[0] ?? "");
  const right = halves.length === 2 ? toGroups(halves[1] ?? "") : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...right];
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    value = (value << 16n) | BigInt(Number.parseInt(g, 16));
  }
  if (tailV4 !== null) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

/** Parses an IPv4 or IPv6 address; IPv4 maps into `::ffff:0:0/96`. Null when not an address. */
export function parseIp(text: string): bigint | null {
  if (text.includes(":")) return parseV6(text);
  const v4 = parseV4(text);
  return v4 === null ? null : V4_MAPPED | v4;
}

export interface Cidr {
  base: bigint;
  mask: bigint;
  /** Written as an IPv4 block (`198.51.100.0/24`), held here in its IPv4-mapped form. */
  family: 4 | 6;
  /** False for an IPv6 block that cannot contain any IPv4(-mapped) address. */
  holdsV4: boolean;
}

/**
 * Parses `198.51.100.0/24` or `2001:db8::/32`. Host bits must be zero, so a typo such as
 * `10.0.0.1/8` is refused instead of silently widening. Returns an error message or the CIDR.
 */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf("/");
  if (slash < 0) return "must be a CIDR block such as 198.51.100.0/24 or 2001:db8::/32";
  const addrText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const isV6 = addrText.includes(":");
  const addr = parseIp(addrText);
  if (addr === null) return `"${addrText}" is not an IPv4 or IPv6 address`;
  const maxPrefix = isV6 ? 128 : 32;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) {
    return `prefix length must be 0-${maxPrefix}`;
  }
  const prefix = Number(prefixText) + (isV6 ? 0 : 96);
  const mask = prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
  if ((addr & mask) !== addr) return "host bits are set; use the network address (e.g. 10.0.0.0/8)";
  if (isV6) return { base: addr, mask, family: 6, holdsV4: (V4_MAPPED & mask) === (addr & ~0xffffffffn) };
  return { base: addr, mask, family: 4, holdsV4: true };
}
