import { Hono } from "hono";
import { FerryError } from "../../core/errors.ts";
import type { ApiEnv } from "../types.ts";
import { requireScope } from "../services/tokens.ts";
import type { envService } from "../services/env.ts";

/** /v1/projects/:name/env — values go in, only non-sensitive ones ever come back out. */
export function envRoutes(envs: ReturnType<typeof envService>) {
  const app = new Hono<ApiEnv>();
  // scoped to the env paths: this app shares the /v1/projects prefix with other routes
  const scope = async (c: import("hono").Context<ApiEnv>, next: () => Promise<void>) => {
    requireScope(c.get("auth"), "env");
    await next();
  };
  app.use("/:name/env", scope);
  app.use("/:name/env/*", scope);
  app.get("/:name/env", async (c) => {
    const decrypt = ["1", "true"].includes(c.req.query("decrypt") ?? "");
    return c.json({ env: await envs.list(c.get("auth"), c.req.param("name"), { environment: c.req.query("environment"), decrypt }) });
  });
  app.post("/:name/env", async (c) => {
    const body = await c.req.json().catch(() => {
      throw new FerryError("invalid_json", "request body must be JSON: { key, value, environment, sensitive }", 400);
    });
    return c.json(await envs.add(c.get("auth"), c.req.param("name"), body as Record<string, unknown>), 201);
  });
  app.delete("/:name/env/:key", async (c) => c.json(await envs.remove(c.get("auth"), c.req.param("name"), c.req.param("key"), c.req.query("environment"))));
  return app;
}
