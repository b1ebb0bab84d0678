import { Hono } from "hono";
import { FerryError } from "../../core/errors.ts";
import type { ApiEnv } from "../types.ts";
import { requireScope } from "../services/tokens.ts";
import type { aliasService } from "../services/aliases.ts";

export function aliasRoutes(aliases: ReturnType<typeof aliasService>) {
  const app = new Hono<ApiEnv>();
  app.use("*", async (c, next) => {
    requireScope(c.get("auth"), "aliases");
    await next();
  });
  app.get("/", async (c) => c.json({ aliases: await aliases.list(c.get("auth")) }));
  app.post("/", async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { alias?: unknown; deployment?: unknown };
    if (typeof body.alias !== "string" || typeof body.deployment !== "string") {
      throw new FerryError("invalid_request", "body must be { alias: string, deployment: string }", 400);
    }
    return c.json(await aliases.set(c.get("auth"), body.deployment, body.alias), 201);
  });
  app.delete("/:alias", async (c) => c.json(await aliases.remove(c.get("auth"), c.req.param("alias"))));
  return app;
}

export function projectRoutes(deps: { metadata: import("../../core/metadata/repository.ts").Metadata }, aliases: ReturnType<typeof aliasService>) {
  const app = new Hono<ApiEnv>();
  app.get("/", async (c) => c.json({ projects: await deps.metadata.listProjects(c.get("auth").accountId) }));
  app.post("/:name/rollback", async (c) => {
    requireScope(c.get("auth"), "aliases");
    return c.json(await aliases.rollback(c.get("auth"), c.req.param("name")));
  });
  return app;
}
