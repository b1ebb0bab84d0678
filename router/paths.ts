// URL pieces the router needs, taken from the request URL string without building a URL object.

export interface UrlParts {
  /** Host as sent (may include a port) */
  host: string;
  /** path exactly as received, still percent-encoded, without the query */
  path: string;
  /** query string including its leading `?`, or "" */
  search: string;
}

export function splitUrl(url: string): UrlParts {
  const from = url.indexOf("//") + 2;
  let p = url.indexOf("/", from);
  if (p < 0) p = url.length;
  const q = url.indexOf("?", p);
  const h = url.indexOf("#", p);
  const end = h < 0 ? url.length : h;
  return {
    host: url.slice(from, p),
    path: q < 0 || q > end ? url.slice(p, end) || "/" : url.slice(p, q) || "/",
    search: q < 0 || q > end ? "" : url.slice(q, end),
  };
}

/** Characters of an RFC 3986 reg-name besides `.` and `%XX`: unreserved and sub-delims. */
const REG_NAME = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~!$&'()*+,;=") REG_NAME[c.charCodeAt(0)] = 1;
const HEX = new Uint8Array(128);
for (const c of "0123456789abcdefABCDEF") HEX[c.charCodeAt(0)] = 1;

/** DNS's limits: 63 bytes a label, 253 a whole name (without the trailing dot). */
const MAX_LABEL = 63;
const MAX_NAME = 253;

/**
 * Whether a Host header (or the authority of an absolute-form target) is `host[:port]` as
 * RFC 3986 allows: a reg-name (which covers IPv4 addresses) or an IPv6 literal in brackets, then
 * an optional port of digits. No userinfo, no path, query or fragment, no spaces or control
 * characters; reg-names within DNS's lengths. Anything else is a 400 (RFC 9112 §3.2), never a
 * different route: `Host: app.localhost/api/x#` must not be read as a host plus a path.
 */
export function validHost(host: string): boolean {
  const n = host.length;
  if (n === 0) return false;
  let i = 0;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf("]");
    if (close < 3) return false;
    let colons = 0;
    for (let j = 1; j < close; j++) {
      const c = host.charCodeAt(j);
      if (c === 58) colons++;
      else if (c !== 46 && (c > 127 || !HEX[c])) return false;
    }
    if (colons < 2) return false;
    i = close + 1;
  } else {
    let label = 0;
    let lastDot = -1;
    for (; i < n; i++) {
      const c = host.charCodeAt(i);
      if (c === 58 /* : */) break;
      if (c === 46 /* . */) {
        label = 0;
        lastDot = i;
        continue;
      }
      if (c === 37 /* % */) {
        const a = host.charCodeAt(i + 1);
        const b = host.charCodeAt(i + 2);
        if (!(a < 128 && HEX[a]) || !(b < 128 && HEX[b])) return false;
        i += 2;
      } else if (c > 127 || !REG_NAME[c]) return false;
      if (++label > MAX_LABEL) return false;
    }
    if (i === 0) return false; // only a port
    if ((lastDot === i - 1 ? i - 1 : i) > MAX_NAME) return false;
  }
  if (i === n) return true;
  if (host.charCodeAt(i) !== 58 || n - i - 1 > 5) return false;
  for (let j = i + 1; j < n; j++) {
    const c = host.charCodeAt(j);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** A deployment's host label: what project names and aliases may be (a-z, 0-9, `-`). */
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/**
 * The host label a request is for: Host lower-cased, port dropped, `.${domain}` removed.
 * Only one label deep (`<project>-<suffix>` or an alias), and only one a deployment can have:
 * anything else is not ours, and is not looked up.
 */
export function hostLabel(host: string, domain: string): string | null {
  let h = host.toLowerCase();
  if (h.startsWith("[")) return null; // an IPv6 literal names no deployment
  const colon = h.lastIndexOf(":");
  if (colon >= 0) h = h.slice(0, colon);
  if (h.endsWith(".")) h = h.slice(0, -1);
  const suffix = `.${domain.toLowerCase()}`;
  if (!h.endsWith(suffix)) return null;
  const label = h.slice(0, -suffix.length);
  return LABEL.test(label) ? label : null;
}

const UNSAFE = /%2f|%5c|%00/i;

/**
 * Decodes a request path once for looking up static files, and refuses anything that could name
 * something outside the deployment or alias another file: malformed escapes, NUL, backslashes,
 * encoded slashes, `.`/`..` segments that survived URL normalization. Returns null when refused.
 * Lookups only ever consult the deployment's manifest, so this is defence in depth.
 */
export function decodePath(raw: string): string | null {
  if (UNSAFE.test(raw) || raw.includes("\\")) return null;
  let decoded = raw;
  if (raw.includes("%")) {
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      return null;
    }
  }
  if (decoded.includes("\0") || decoded.includes("\\") || decoded.charCodeAt(0) !== 47) return null;
  if (decoded.includes("/.")) {
    for (const seg of decoded.split("/")) if (seg === "." || seg === "..") return null;
  }
  return decoded;
}

/** Decodes route params for a function; a malformed escape is passed on as received. */
export function decodeParams(params: Record<string, string | string[] | undefined>) {
  const out: Record<string, string | string[]> = {};
  for (const k in params) {
    const v = params[k];
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map(safeDecode) : safeDecode(v);
  }
  return out;
}

function safeDecode(s: string) {
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
