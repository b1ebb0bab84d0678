import type { CompiledRoute, CompiledRoutes } from "./compile.ts";
import { isAbsolute, isExternal, sameHost } from "./location.ts";
import { matchConditions, matchSrc, type RequestFacts } from "./match.ts";
import { mergeQuery, splitDest } from "./query.ts";
import { substitute } from "./substitute.ts";

/** What the routes decided for a request. `T` is whatever the filesystem check found. */
export type Outcome<T> =
  | { type: "redirect"; status: number; location: string; headers: Record<string, string> }
  /** serve `found` (a file or function) for `path` + `search`; `status` overrides 200 */
  | { type: "serve"; found: T; path: string; search: string; status?: number; headers: Record<string, string> }
  /** proxy to another site */
  | { type: "proxy"; url: string; status?: number; headers: Record<string, string> }
  /** nothing to serve: `status` (404 unless a route set one) */
  | { type: "status"; status: number; headers: Record<string, string> };

export interface EngineRequest extends RequestFacts {
  /** as received, still percent-encoded */
  path: string;
  /** "" or "?..." */
  search: string;
}

/** The filesystem check: a static file or a function for this (raw) path, or null. */
export type Lookup<T> = (path: string) => T | null;

interface State {
  path: string;
  search: string;
  headers: Record<string, string>;
  status?: number;
}

type PhaseName = "main" | "filesystem" | "miss" | "hit" | "error";

/** How a phase ended: a route that ends routing, a route that matched (the phase is over), or none. */
type PhaseEnd = { exit: Outcome<never> } | { matched: CompiledRoute } | null;

/**
 * Runs a routes array the way Vercel's proxy does: the routes before `handle: filesystem`, the
 * filesystem check, the routes after it (a `check: true` rewrite looks at the filesystem before it
 * is taken, and a `miss` phase, if any, runs when it finds nothing), `hit` routes once something
 * is found, `error` routes when nothing is.
 */
export function runRoutes<T>(routes: CompiledRoutes, req: EngineRequest, lookup: Lookup<T>): Outcome<T> {
  const st: State = { path: req.path, search: req.search, headers: {} };
  const cookies = {};
  const exists = (dest: string) => lookup(splitDest(dest).path) !== null;

  function phase(list: CompiledRoute[], name: PhaseName): PhaseEnd {
    for (const route of list) {
      if (route.methods && !route.methods.includes(req.method)) continue;
      const m = matchSrc(route, st.path);
      if (!m) continue;
      const captured = matchConditions(route, req, st.search, cookies);
      if (!captured) continue;
      const dest = route.dest === undefined ? undefined : substitute(route.dest, m, route.names, captured);
      for (const [k, v] of route.headers) {
        const key = substitute(k, m, route.names, captured).toLowerCase();
        // hit and miss routes add headers, they never replace ones already set
        if ((name === "hit" || name === "miss") && key in st.headers) continue;
        const value = substitute(v, m, route.names, captured);
        st.headers[key] = key === "location" && !isAbsolute(v) ? sameHost(value) : value;
      }
      if (route.continue) {
        if (route.status) st.status = route.status;
        if (dest !== undefined) moveTo(dest);
        continue;
      }
      const external = dest !== undefined && isExternal(route.dest!) && isExternal(dest);
      if (route.check && name !== "hit" && dest !== undefined && !external && !exists(dest)) {
        if (route.status && name !== "miss") {
          // a status route ends here even though its destination is missing
        } else if (name !== "miss" && routes.miss.length) {
          moveTo(dest);
          const miss = phase(routes.miss, "miss");
          if (miss) return miss;
          continue;
        } else {
          if (route.status && name === "miss") st.status = route.status;
          moveTo(dest);
          continue;
        }
      }
      const status = route.status ?? st.status;
      // a redirect whose target is another site, written as `dest` rather than a Location header
      if (external && status && status >= 300 && status < 400 && !st.headers.location) st.headers.location = dest!;
      else if (external) {
        return { exit: { type: "proxy", url: withQuery(dest!, st.search), status, headers: st.headers } };
      }
      else if (dest !== undefined) moveTo(dest);
      st.status = status;
      return { matched: route };
    }
    return null;
  }

  /** Takes a destination on this host: its path (leading slashes collapsed, so it never reads as
   * another host), and its query merged with the current one. */
  function moveTo(dest: string) {
    const d = splitDest(dest);
    st.path = `/${d.path.replace(/^[/\\]+/, "")}`;
    st.search = mergeQuery(d.search, st.search);
  }

  /** A redirect, or a status with nothing to serve, ends routing (Vercel's exit_with_status). */
  function exitWithStatus(found: T | null, name: PhaseName, matched: CompiledRoute | null): Outcome<T> | null {
    const status = st.status;
    if (status && status >= 300 && status < 400) {
      const loc = st.headers.location ?? (matched?.dest !== undefined ? st.path + st.search : undefined);
      if (loc !== undefined) {
        const { location: _, ...headers } = st.headers;
        return { type: "redirect", status, location: withQuery(loc, req.search), headers };
      }
    }
    if (!found && status && name !== "miss") return { type: "status", status, headers: st.headers };
    return null;
  }

  function serve(found: T): Outcome<T> {
    if (routes.hit.length) {
      const status = st.status;
      const path = st.path;
      const search = st.search;
      phase(routes.hit, "hit");
      // hit routes add headers only
      Object.assign(st, { status, path, search });
    }
    return { type: "serve", found, path: st.path, search: st.search, status: st.status, headers: st.headers };
  }

  function step(list: CompiledRoute[], name: PhaseName): { outcome: Outcome<T> } | { found: T } | null {
    st.status = undefined;
    const end = phase(list, name);
    if (end && "exit" in end) return { outcome: end.exit };
    const found = lookup(st.path);
    const exit = exitWithStatus(found, name, end ? end.matched : null);
    if (exit) return { outcome: exit };
    return found === null ? null : { found };
  }

  let result = step(routes.main, "main");
  if (!result && routes.filesystem.length) result = step(routes.filesystem, "filesystem");
  if (!result && routes.miss.length) result = step(routes.miss, "miss");
  if (result) return "outcome" in result ? result.outcome : serve(result.found);

  if (routes.error.length) {
    st.status = undefined;
    const end = phase(routes.error, "error");
    if (end && "exit" in end) return end.exit;
    if (end) {
      const status = st.status ?? 404;
      const found = end.matched.dest !== undefined ? lookup(st.path) : null;
      if (found) return { type: "serve", found, path: st.path, search: st.search, status, headers: st.headers };
      const exit = exitWithStatus(null, "error", end.matched);
      if (exit) return exit;
      return { type: "status", status, headers: st.headers };
    }
  }
  return { type: "status", status: 404, headers: st.headers };
}

/** A Location or proxy URL with the request's query merged in after its own. */
function withQuery(target: string, search: string): string {
  if (!search) return target;
  const hash = target.indexOf("#");
  const base = hash < 0 ? target : target.slice(0, hash);
  const d = splitDest(base);
  return d.path + mergeQuery(d.search, search) + (hash < 0 ? "" : target.slice(hash));
}
