import { Hono } from "hono";
import { stream } from "hono/streaming";
import type { ApiDeps, ApiEnv } from "../types.ts";
import { jsonBody } from "../access.ts";
import { deployBodySchema } from "../bodies.ts";
import { presentDeployment } from "../services/present.ts";
import type { deploymentService } from "../services/deployments.ts";
import type { aliasService } from "../services/aliases.ts";
import type { BuildEvent } from "../services/build-logs.ts";
import type { AuthContext } from "../services/tokens.ts";
import type { Deployment } from "../../core/types.ts";

const FINAL = new Set(["READY", "ERROR", "CANCELED"]);

export function deploymentRoutes(deps: ApiDeps, deployments: ReturnType<typeof deploymentService>, aliases: ReturnType<typeof aliasService>) {
  const app = new Hono<ApiEnv>();
  /** One deployment as the API shows it, with the aliases pointing at it. */
  const presentOne = async (auth: AuthContext, d: Deployment) => presentDeployment(d, deps, (await deployments.aliasesOf(auth, [d.id])).get(d.id));

  // scopes and JSON bodies: see access.ts
  app.post("/", async (c) => {
    const d = await deployments.create(c.get("auth"), jsonBody(c, deployBodySchema));
    return c.json(await presentOne(c.get("auth"), d), 201);
  });

  app.get("/", async (c) => {
    const limit = Math.min(Number(c.req.query("limit") ?? 20) || 20, 100);
    const list = await deployments.list(c.get("auth"), { project: c.req.query("project"), limit });
    const al = await deployments.aliasesOf(c.get("auth"), list.map((d) => d.id));
    return c.json({ deployments: list.map((d) => presentDeployment(d, deps, al.get(d.id))) });
  });

  app.get("/:idOrHost", async (c) => {
    const d = await deployments.find(c.get("auth"), c.req.param("idOrHost"));
    return c.json(await presentOne(c.get("auth"), d));
  });

  app.delete("/:idOrHost", async (c) => c.json(await deployments.remove(c.get("auth"), c.req.param("idOrHost"))));

  app.post("/:idOrHost/cancel", async (c) => {
    const d = await deployments.find(c.get("auth"), c.req.param("idOrHost"));
    await deps.builds.cancel(d.id);
    return c.json(await presentOne(c.get("auth"), (await deps.metadata.getDeployment(d.id))!));
  });

  app.post("/:idOrHost/promote", async (c) => {
    const d = await deployments.find(c.get("auth"), c.req.param("idOrHost"));
    return c.json(await aliases.promote(c.get("auth"), d));
  });

  /** Build events as NDJSON; with `follow=1` the stream stays open until the build finishes. */
  app.get("/:idOrHost/events", async (c) => {
    const d = await deployments.find(c.get("auth"), c.req.param("idOrHost"));
    const follow = ["1", "true"].includes(c.req.query("follow") ?? "");
    c.header("content-type", "application/x-ndjson; charset=utf-8");
    c.header("cache-control", "no-store");
    return stream(c, async (s) => {
      const pending: BuildEvent[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = follow ? deps.buildLogs.subscribe(d.id, (e) => { pending.push(e); wake?.(); }) : () => {};
      s.onAbort(() => { unsubscribe(); wake?.(); });
      try {
        const live = deps.buildLogs.isLive(d.id);
        const past = await deps.buildLogs.read(d.id);
        for (const e of past) await s.write(JSON.stringify(e) + "\n");
        // live events are shared objects: drop those that raced in between subscribe() and read()
        const replayed = new Set(past);
        pending.splice(0, pending.length, ...pending.filter((e) => !replayed.has(e)));
        /** how much of the stored log was sent, while the build runs in another process */
        let stored = live ? -1 : past.length;
        let state = (await deps.metadata.getDeployment(d.id))!.state;
        if (!follow || FINAL.has(state)) {
          if (!past.some((e) => e.type === "state" && FINAL.has(e.state)) && FINAL.has(state)) {
            await s.write(JSON.stringify({ type: "state", ts: Date.now(), state }) + "\n");
          }
          return;
        }
        while (!s.aborted) {
          if (!pending.length) {
            await new Promise<void>((r) => {
              wake = r;
              // the build may run in another process (the AWS build coordinator): look at its
              // stored log and state now and then
              setTimeout(r, stored < 0 ? 2000 : 1000).unref();
            });
            wake = undefined;
          }
          for (const e of pending.splice(0)) {
            await s.write(JSON.stringify(e) + "\n");
            if (e.type === "state" && FINAL.has(e.state)) return;
          }
          if (!deps.buildLogs.isLive(d.id)) {
            if (stored >= 0) {
              // the other process flushes its log as it goes: send what is new since the last look
              const all = await deps.buildLogs.read(d.id);
              for (const e of all.slice(stored)) {
                await s.write(JSON.stringify(e) + "\n");
                if (e.type === "state" && FINAL.has(e.state)) return;
              }
              stored = Math.max(stored, all.length);
            }
            state = (await deps.metadata.getDeployment(d.id))!.state;
            if (FINAL.has(state)) {
              await s.write(JSON.stringify({ type: "state", ts: Date.now(), state }) + "\n");
              return;
            }
          }
        }
      } finally {
        unsubscribe();
      }
    });
  });

  return app;
}
