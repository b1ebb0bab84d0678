// Query strings are merged without re-encoding them: each `key=value` pair is kept as the visitor
// (or the rule) wrote it, and only keys are compared, decoded.

/** `?a=1&b=2` (or "") as raw pairs. */
export function rawPairs(search: string): string[] {
  const s = search.startsWith("?") ? search.slice(1) : search;
  return s ? s.split("&").filter(Boolean) : [];
}

const keyOf = (pair: string) => {
  const raw = pair.split("=", 1)[0]!;
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return raw;
  }
};

/** Pairs grouped by decoded key, keys in first-seen order. */
function groupByKey(pairs: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of pairs) {
    const k = keyOf(p);
    const group = out.get(k);
    if (group) group.push(p);
    else out.set(k, [p]);
  }
  return out;
}

/**
 * A destination's query merged with the request's, as Vercel does: the destination's keys first,
 * and a key the request also has takes the request's values (in the destination's position).
 */
export function mergeQuery(destSearch: string, reqSearch: string): string {
  const dest = rawPairs(destSearch);
  const req = rawPairs(reqSearch);
  if (!req.length) return dest.length ? `?${dest.join("&")}` : "";
  if (!dest.length) return `?${req.join("&")}`;
  const byKey = groupByKey(dest);
  for (const [k, pairs] of groupByKey(req)) byKey.set(k, pairs);
  return `?${[...byKey.values()].flat().join("&")}`;
}

/** The first value of `key` (decoded; "" for a bare `?key`), or undefined when absent. */
export function queryValue(search: string, key: string): string | undefined {
  for (const p of rawPairs(search)) {
    if (keyOf(p) !== key) continue;
    const i = p.indexOf("=");
    if (i < 0) return "";
    try {
      return decodeURIComponent(p.slice(i + 1).replace(/\+/g, " "));
    } catch {
      return p.slice(i + 1);
    }
  }
  return undefined;
}

/** Splits `/path?query` into its path and its search ("" or starting with "?"). */
export function splitDest(dest: string): { path: string; search: string } {
  const q = dest.indexOf("?");
  return q < 0 ? { path: dest, search: "" } : { path: dest.slice(0, q), search: dest.slice(q) };
}
