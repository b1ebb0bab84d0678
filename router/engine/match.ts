import { parseCookie } from "cookie";
import type { CompiledRoute, Condition } from "./compile.ts";
import { queryValue } from "./query.ts";

/** What a route's conditions are checked against. */
export interface RequestFacts {
  method: string;
  /** the host routed on, without its port */
  host: string;
  /** a request header (lower-case name), repeats joined */
  header(name: string): string | undefined;
}

/** Matches `src` against the path; like Vercel's router, also without the leading slash, so a
 * `src` written as `api/(.*)` matches `/api/x`. */
export function matchSrc(route: CompiledRoute, path: string): RegExpExecArray | null {
  return route.src.exec(path) ?? (path.length > 1 ? route.src.exec(path.slice(1)) : null);
}

/**
 * `has` (every one must hold) and `missing` (none may). Returns the values they captured for `$name`
 * substitution (named groups of a value regex, the value of a bare key, `$host`), or null.
 */
export function matchConditions(route: CompiledRoute, req: RequestFacts, search: string, cookies: { value?: Record<string, string | undefined> }): Record<string, string> | null {
  if (!route.has.length && !route.missing.length) return {};
  const params: Record<string, string> = {};
  for (const c of route.has) {
    const actual = lookup(c, req, search, cookies);
    if (!c.value) {
      if (actual === undefined) return null;
      if (c.type !== "host") params[c.key] = actual;
      continue;
    }
    if (actual === undefined) return null;
    const captures = matchValue(c, actual);
    if (!captures) return null;
    Object.assign(params, captures);
    if (c.capturesHost) params.host = actual;
  }
  for (const c of route.missing) {
    const actual = lookup(c, req, search, cookies);
    if (actual === undefined) continue;
    if (!c.value || matchValue(c, actual)) return null;
  }
  return params;
}

function lookup(c: Condition, req: RequestFacts, search: string, cookies: { value?: Record<string, string | undefined> }): string | undefined {
  switch (c.type) {
    case "header":
      return req.header(c.key);
    case "cookie": {
      // parsed once per request, only when a rule asks
      if (!cookies.value) {
        const header = req.header("cookie");
        cookies.value = header ? parseCookie(header) : {};
      }
      return cookies.value[c.key];
    }
    case "query":
      return queryValue(search, c.key);
    case "host":
      return req.host;
  }
}

/** The captures of a value matcher, or null when it does not hold. */
function matchValue(c: Condition, actual: string): Record<string, string> | null {
  const v = c.value!;
  if (!("ops" in v)) return regexCaptures(v.re, actual);
  const o = v.ops;
  if (o.eq !== undefined && actual !== String(o.eq)) return null;
  if (o.neq !== undefined && actual === o.neq) return null;
  if (o.inc !== undefined && !o.inc.some((x) => actual.includes(x))) return null;
  if (o.ninc !== undefined && o.ninc.some((x) => actual.includes(x))) return null;
  if (o.pre !== undefined && !actual.startsWith(o.pre)) return null;
  if (o.suf !== undefined && !actual.endsWith(o.suf)) return null;
  let captures: Record<string, string> = {};
  if (o.re !== undefined) {
    const m = regexCaptures(v.re, actual);
    if (!m) return null;
    captures = m;
  }
  const num = actual.trim() === "" ? NaN : Number(actual);
  const numeric = Number.isFinite(num);
  if (o.gt !== undefined && !(numeric && num > o.gt)) return null;
  if (o.gte !== undefined && !(numeric && num >= o.gte)) return null;
  if (o.lt !== undefined && !(numeric && num < o.lt)) return null;
  if (o.lte !== undefined && !(numeric && num <= o.lte)) return null;
  return captures;
}

function regexCaptures(re: RegExp | null, actual: string): Record<string, string> | null {
  if (!re) return null;
  const m = re.exec(actual);
  if (!m) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) out[k] = v;
  return out;
}
