import { Hono } from "hono";
import type { ApiEnv } from "../types.ts";
import { jsonBody } from "../access.ts";
import { deployHookBodySchema } from "../services/git-meta.ts";
import type { deployHookService } from "../services/git-deploy-hooks.ts";

type Hooks = ReturnType<typeof deployHookService>;

/** `/v1/projects/:name/deploy-hooks`: make, list and remove a project's deploy hooks (scopes: access.ts). */
export function deployHookRoutes(hooks: Hooks) {
  const app = new Hono<ApiEnv>();
  app.post("/:name/deploy-hooks", async (c) => c.json(await hooks.create(c.get("auth"), c.req.param("name"), jsonBody(c, deployHookBodySchema), new URL(c.req.url).origin), 201));
  app.get("/:name/deploy-hooks", async (c) => c.json({ deployHooks: await hooks.list(c.get("auth"), c.req.param("name")) }));
  app.delete("/:name/deploy-hooks/:id", async (c) => c.json(await hooks.remove(c.get("auth"), c.req.param("name"), c.req.param("id"))));
  return app;
}

/** `POST /v1/deploy-hooks/<secret>`: no token, the secret in the URL is the credential. */
export function deployHookTriggerRoutes(hooks: Hooks) {
  const app = new Hono<ApiEnv>();
  app.post("/:secret", async (c) => c.json(await hooks.trigger(c.req.param("secret")), 201));
  return app;
}
