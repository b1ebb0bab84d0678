import { Hono } from "hono";
import { stream } from "hono/streaming";
import { FerryError } from "../../core/errors.ts";
import type { LogEntry, LogStore } from "../../core/logs/port.ts";
import type { ApiEnv } from "../types.ts";
import type { deploymentService } from "../services/deployments.ts";

/** `since` as epoch ms, an ISO date, or a duration ago (`30s`, `10m`, `2h`, `1d`). */
export function parseSince(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const rel = /^(\d+)(ms|s|m|h|d)$/.exec(value);
  if (rel) return now - Number(rel[1]) * { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[rel[2] as "s"];
  if (/^\d+$/.test(value)) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new FerryError("invalid_since", `since ${JSON.stringify(value)} must be a duration (10m), an ISO date or epoch ms`, 400);
  return t;
}

/** GET /v1/deployments/:id/logs — runtime logs as NDJSON; `follow=1` keeps the stream open.
 * Needs the `logs` scope only (access.ts): a logs token finds the deployment, nothing else. */
export function logRoutes(logs: LogStore, deployments: ReturnType<typeof deploymentService>) {
  const app = new Hono<ApiEnv>();
  app.get("/:idOrHost/logs", async (c) => {
    const d = await deployments.find(c.get("auth"), c.req.param("idOrHost"));
    const since = parseSince(c.req.query("since"));
    const limit = c.req.query("limit") ? Math.max(1, Math.min(10_000, Number(c.req.query("limit")) || 100)) : undefined;
    const follow = ["1", "true"].includes(c.req.query("follow") ?? "");
    c.header("content-type", "application/x-ndjson; charset=utf-8");
    c.header("cache-control", "no-store");
    return stream(c, async (s) => {
      const live: LogEntry[] = [];
      let wake: (() => void) | undefined;
      const off = follow ? logs.follow(d.id, (e) => { live.push(e); wake?.(); }) : () => {};
      s.onAbort(() => { off(); wake?.(); });
      try {
        const past = await logs.query(d.id, { since, limit });
        const lastTs = past.at(-1)?.ts ?? 0;
        for (const e of past) await s.write(JSON.stringify(e) + "\n");
        if (!follow) return;
        // entries appended while we read the file are in both: skip what the file already had
        let skip = live.filter((e) => e.ts <= lastTs).length;
        while (!s.aborted) {
          if (!live.length) await new Promise<void>((r) => { wake = r; setTimeout(r, 15_000).unref(); });
          wake = undefined;
          for (const e of live.splice(0)) {
            if (skip > 0) { skip--; continue; }
            await s.write(JSON.stringify(e) + "\n");
          }
        }
      } finally {
        off();
      }
    });
  });
  return app;
}
