// Which addresses a server-side request (a webhook) may connect to: public unicast
// only. Loopback, private, link-local, unique-local, carrier-grade NAT, multicast,
// broadcast, unspecified, documentation and other special-purpose ranges (the IANA
// registries) are refused, so a member cannot make the server probe its own network.
// Pure: callers resolve names and pass the addresses they are about to connect to.
import ipaddr from "ipaddr.js";

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

/**
 * Non-global ranges that ipaddr.js 1.x's tables leave as "unicast". Order matters only
 * for readability: none overlaps one of its own ranges that is checked first.
 */
const extraV4 = [["198.18.0.0/15", "benchmarking"]] as const;
const extraV6 = [
  ["::/96", "ipv4Compatible"], // deprecated ::a.b.c.d (:: and ::1 are matched before)
  ["64:ff9b:1::/48", "nat64LocalUse"],
  ["100::/64", "discard"],
  ["2001::/23", "ietfProtocol"],
  ["3fff::/20", "reserved"], // documentation (RFC 9637)
  ["fec0::/10", "siteLocal"], // deprecated, still routed inside some networks
] as const;

/**
 * ipaddr.js's range names plus the extras above; "unicast" is the only public one,
 * "invalid" means the text is not an IP address.
 */
export type AddressRange = ReturnType<IPv4["range"]> | ReturnType<IPv6["range"]> | (typeof extraV4)[number][1] | (typeof extraV6)[number][1] | "invalid";

const v4Nets = extraV4.map(([cidr, name]) => [ipaddr.IPv4.parseCIDR(cidr), name] as const);
const v6Nets = extraV6.map(([cidr, name]) => [ipaddr.IPv6.parseCIDR(cidr), name] as const);

function v4Range(ip: IPv4): AddressRange {
  const r = ip.range();
  return r === "unicast" ? (v4Nets.find(([net]) => ip.match(net))?.[1] ?? r) : r;
}

/** The IPv4 address in an IPv6 address's last 32 bits (IPv4-mapped, NAT64). */
function embeddedV4(ip: IPv6): IPv4 {
  return ipaddr.fromByteArray(ip.toByteArray().slice(12)) as IPv4;
}

/** The special-purpose range `address` (v4 dotted quad or v6 text) is in; "unicast" when none. */
export function addressRange(address: string): AddressRange {
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) return v4Range(ipaddr.IPv4.parse(address));
  if (!ipaddr.IPv6.isValid(address)) return "invalid";
  const ip = ipaddr.IPv6.parse(address);
  const r = ip.range();
  // ::ffff:a.b.c.d is a.b.c.d to the socket; 64:ff9b::a.b.c.d is how a DNS64 network
  // reaches every IPv4 host, so both are judged by the IPv4 address they carry.
  if (r === "ipv4Mapped" || r === "rfc6052") return v4Range(embeddedV4(ip));
  return r === "unicast" ? (v6Nets.find(([net]) => ip.match(net))?.[1] ?? r) : r;
}

/** True when `address` is a public unicast address, the only kind a webhook may reach. */
export function isPublicAddress(address: string): boolean {
  return addressRange(address) === "unicast";
}

/** The address a URL hostname spells out (brackets of an IPv6 literal removed); null for a DNS name. */
export function hostAddress(hostname: string): string | null {
  const host = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  return ipaddr.IPv4.isValidFourPartDecimal(host) || ipaddr.IPv6.isValid(host) ? host : null;
}

/**
 * Whether a URL hostname names a non-public destination without resolving anything: an IP
 * literal outside public unicast, or `localhost` / `*.localhost` (loopback by RFC 6761).
 * Other names can only be judged once resolved, at connect time.
 */
export function isNonPublicHostname(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  const address = hostAddress(name);
  return address !== null && !isPublicAddress(address);
}
