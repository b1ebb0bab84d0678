import { promises as dns, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

// Requests the platform makes for a tenant (external rewrites, outgoing webhooks, fetches of a
// linked repository) must not reach the platform's own listeners, the host's network or a cloud
// metadata service: their destinations must be public addresses.

const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12], ["192.0.0.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["224.0.0.0", 3]] as const) NOT_PUBLIC.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [["::", 127], ["64:ff9b::", 96], ["64:ff9b:1::", 48], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8]] as const) NOT_PUBLIC.addSubnet(net, bits, "ipv6");

const unbracket = (host: string) => host.replace(/^\[|\]$/g, "");

/** Whether an address is one a public destination may not resolve to (IPv4-mapped IPv6 as IPv4). */
export function isNonPublicAddress(address: string): boolean {
  const a = unbracket(address).toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a)?.[1];
  if (mapped) return NOT_PUBLIC.check(mapped, "ipv4");
  const family = isIP(a);
  if (family === 4) return NOT_PUBLIC.check(a, "ipv4");
  if (family === 6) return /^::ffff:/.test(a) || NOT_PUBLIC.check(a, "ipv6");
  return true;
}

/** Whether a URL's host (as `URL#hostname` gives it, IPv6 in brackets) is an address literal. */
export const isAddressLiteral = (hostname: string) => isIP(unbracket(hostname)) !== 0;

/**
 * Why a URL's host may not be reached, judged without DNS: a non-public address literal (never
 * looked up, so never caught at connect time) or a `localhost` name (RFC 6761). Null when only
 * resolving it can tell.
 */
export function literalHostProblem(hostname: string): string | null {
  const h = unbracket(hostname).toLowerCase().replace(/\.$/, "");
  if (isIP(h)) return isNonPublicAddress(h) ? "is a loopback, private, link-local or reserved address" : null;
  if (h === "localhost" || h.endsWith(".localhost")) return "is localhost";
  return null;
}

/** Every address of a name; a dependency so tests can answer without DNS. */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;
export const systemResolve: Resolve = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

export class NonPublicAddressError extends Error {
  readonly code = "ENOTPUBLIC";
  constructor(
    readonly hostname: string,
    readonly address: string,
  ) {
    super(`${hostname} resolves to the non-public address ${address}`);
  }
}

/** A name's addresses, failing with NonPublicAddressError when any of them is non-public. */
export async function resolvePublic(hostname: string, resolve: Resolve = systemResolve, allowPrivate = false): Promise<LookupAddress[]> {
  const list = await resolve(unbracket(hostname));
  if (!list.length) throw Object.assign(new Error(`${hostname} has no addresses`), { code: "ENOTFOUND" });
  const bad = allowPrivate ? undefined : list.find((x) => isNonPublicAddress(x.address));
  if (bad) throw new NonPublicAddressError(hostname, bad.address);
  return list;
}

/**
 * A `lookup` for net.connect (an http agent, an undici dispatcher's `connect`): the socket
 * connects to an address this very lookup checked, so DNS answering differently between a check
 * and the connection is no way around it. Address literals skip lookups: check them first.
 */
export function publicLookup(resolve: Resolve = systemResolve, allowPrivate = false): LookupFunction {
  return ((hostname: string, options: { all?: boolean; family?: number | string }, callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    resolvePublic(hostname, resolve, allowPrivate).then(
      (all) => {
        const want = options.family === 4 || options.family === "IPv4" ? 4 : options.family === 6 || options.family === "IPv6" ? 6 : 0;
        const list = want ? all.filter((a) => a.family === want) : all;
        if (!list.length) return callback(Object.assign(new Error(`${hostname} has no IPv${want} address`), { code: "ENOTFOUND" }), "", 4);
        if (options.all) callback(null, list);
        else callback(null, list[0]!.address, list[0]!.family);
      },
      (err: Error) => callback(err, "", 4),
    );
  }) as unknown as LookupFunction;
}
