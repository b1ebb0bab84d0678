import type { HasField, Route, RouteWithSrc } from "@vercel/routing-utils";

type Matchable = Exclude<HasField[number]["value"], undefined>;

export interface Condition {
  type: "header" | "cookie" | "query" | "host";
  /** lower-cased for headers */
  key: string;
  /** absent: the key only has to be present */
  value?: { re: RegExp | null } | { ops: Exclude<Matchable, string>; re: RegExp | null };
  /** a `host` condition with a regex value captures `$host` */
  capturesHost: boolean;
}

export interface CompiledRoute {
  src: RegExp;
  /** named groups of `src`, for `$name` */
  names: string[];
  dest?: string;
  headers: [string, string][];
  methods?: string[];
  status?: number;
  continue: boolean;
  check: boolean;
  has: Condition[];
  missing: Condition[];
}

export type Phase = "main" | "filesystem" | "miss" | "hit" | "error";

/** A routes array split at its `handle` markers, every regex compiled once. */
export type CompiledRoutes = Record<Phase, CompiledRoute[]>;

/** An invalid regex (routing-utils checks `src`, not `has` values) never matches, as in Vercel. */
function regex(source: string, flags = ""): RegExp | null {
  try {
    return new RegExp(source, flags);
  } catch {
    return null;
  }
}

function condition(c: HasField[number]): Condition {
  const key = c.type === "host" ? "host" : c.type === "header" ? c.key.toLowerCase() : c.key;
  const base = { type: c.type, key, capturesHost: false } as Condition;
  if (c.value === undefined) return base;
  if (typeof c.value === "string") return { ...base, value: { re: regex(c.value) }, capturesHost: c.type === "host" };
  return { ...base, value: { ops: c.value, re: c.value.re === undefined ? null : regex(c.value.re) }, capturesHost: c.type === "host" && typeof c.value.re === "string" };
}

export function compileRoutes(routes: Route[]): CompiledRoutes {
  const out: CompiledRoutes = { main: [], filesystem: [], miss: [], hit: [], error: [] };
  let phase: Phase = "main";
  for (const r of routes) {
    if ("handle" in r && r.handle) {
      // `rewrite` and `resource` phases continue the routes after the filesystem check
      phase = r.handle === "miss" || r.handle === "hit" || r.handle === "error" ? r.handle : "filesystem";
      continue;
    }
    if (!("src" in r) || typeof r.src !== "string") continue;
    const route = r as RouteWithSrc;
    const src = new RegExp(route.src, route.caseSensitive ? "" : "i");
    out[phase].push({
      src,
      names: [...route.src.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)].map((m) => m[1]!),
      dest: route.dest,
      headers: Object.entries(route.headers ?? {}),
      methods: route.methods?.map((m: string) => m.toUpperCase()),
      status: route.status,
      continue: route.continue === true,
      check: route.check === true,
      has: (route.has ?? []).map(condition),
      missing: (route.missing ?? []).map(condition),
    });
  }
  return out;
}
