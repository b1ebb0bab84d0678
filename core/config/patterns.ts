import { match, compile, type MatchFunction } from "path-to-regexp";

/**
 * Route `source` patterns are path-to-regexp (v8 syntax: `/:id`, `/*rest`, `{/:optional}`).
 * People arriving from vercel.json write the older `/:path*`, `/:path+` and `/:id?`; translate those
 * so their config carries over unchanged.
 */
export function toPathToRegexp(pattern: string): string {
  // `/(.*)` (match anything, including nothing) is the most common vercel.json source of all;
  // its capture is numbered like a regex group: `$1` in a destination
  let group = 0;
  return pattern
    .replace(/\/?\(\.\*\)/g, (m) => `{${m.startsWith("/") ? "/" : ""}*_${++group}}`)
    .replace(/\/:([A-Za-z_$][\w$]*)\*/g, "{/*$1}")
    .replace(/\/:([A-Za-z_$][\w$]*)\+/g, "/*$1")
    .replace(/\/:([A-Za-z_$][\w$]*)\?/g, "{/:$1}");
}

export type Params = Record<string, string | string[] | undefined>;

/** Compiles a source pattern; throws with path-to-regexp's message when the pattern is invalid. */
export function compileMatcher(pattern: string): (path: string) => Params | null {
  const fn: MatchFunction<Params> = match(toPathToRegexp(pattern), { decode: false });
  return (path) => {
    const r = fn(path);
    return r ? (r.params as Params) : null;
  };
}

/** Fills `:name` / `*name` in a destination with matched params; unknown names stay literal. */
export function fillDestination(destination: string, params: Params): string {
  return destination.replace(/\$(\d+)/g, (whole, n: string) => {
    const v = params[`_${n}`];
    return v === undefined ? "" : Array.isArray(v) ? v.join("/") : v;
  }).replace(/([:*])([A-Za-z_$][\w$]*)([*+?]?)/g, (whole, _sigil, name: string) => {
    const v = params[name];
    if (v === undefined) return whole.endsWith("*") || whole.endsWith("?") ? "" : whole;
    return Array.isArray(v) ? v.join("/") : v;
  });
}

export function validatePattern(pattern: string): string | null {
  try {
    compileMatcher(pattern);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export { compile };
