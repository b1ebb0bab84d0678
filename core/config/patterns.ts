import { match, type MatchFunction } from "path-to-regexp";

// Function routes (`/api/users/:id`, `/api/files/*path`, `{/*slug}`), which the builder derives
// from file names, are path-to-regexp v8 patterns. Routing rules (redirects, rewrites, headers,
// routes) are not: they are compiled by Vercel's routing-utils (./routing.ts).

export type Params = Record<string, string | string[] | undefined>;

/** Compiles a function route; throws with path-to-regexp's message when the pattern is invalid. */
export function compileMatcher(pattern: string): (path: string) => Params | null {
  const fn: MatchFunction<Params> = match(pattern, { decode: false });
  return (path) => {
    const r = fn(path);
    return r ? (r.params as Params) : null;
  };
}
