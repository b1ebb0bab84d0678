import { Hono } from "hono";
import type { ApiEnv } from "../types.ts";
import type { storeService } from "../services/stores.ts";

export function storeRoutes(stores: ReturnType<typeof storeService>) {
  const app = new Hono<ApiEnv>();
  // scopes: see access.ts
  app.get("/", async (c) => c.json({ stores: await stores.list(c.get("auth"), c.req.query("project")) }));
  app.delete("/:project/:name", async (c) => c.json(await stores.remove(c.get("auth"), c.req.param("project"), c.req.param("name"), c.req.query("environment"))));
  return app;
}
