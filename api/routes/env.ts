import { Hono } from "hono";
import type { ApiEnv } from "../types.ts";
import { jsonBody } from "../access.ts";
import { envBodySchema } from "../bodies.ts";
import type { envService } from "../services/env.ts";

/** /v1/projects/:name/env — values go in, only non-sensitive ones ever come back out. */
export function envRoutes(envs: ReturnType<typeof envService>) {
  const app = new Hono<ApiEnv>();
  // scopes and JSON bodies: see access.ts
  app.get("/:name/env", async (c) => {
    const decrypt = ["1", "true"].includes(c.req.query("decrypt") ?? "");
    return c.json({ env: await envs.list(c.get("auth"), c.req.param("name"), { environment: c.req.query("environment"), decrypt }) });
  });
  app.post("/:name/env", async (c) => {
    return c.json(await envs.add(c.get("auth"), c.req.param("name"), jsonBody(c, envBodySchema)), 201);
  });
  app.delete("/:name/env/:key", async (c) => c.json(await envs.remove(c.get("auth"), c.req.param("name"), c.req.param("key"), c.req.query("environment"))));
  return app;
}
