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

/**
 * The host label a request is for: Host lower-cased, port dropped, `.${domain}` removed.
 * Only one label deep (`<project>-<suffix>` or an alias): anything else is not ours.
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
  return label && !label.includes(".") ? label : null;
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
