import { Hono } from "hono";
import type { ApiEnv } from "../types.ts";
import type { Metadata } from "../../core/metadata/repository.ts";
import { listProjectCrons } from "../../crons/list.ts";

/** GET /v1/projects/:name/crons — the production deployment's crons, next and last runs
 * (scope `deployments`, see access.ts). */
export function cronRoutes(deps: { metadata: Metadata }) {
  const app = new Hono<ApiEnv>();
  app.get("/:name/crons", async (c) => c.json(await listProjectCrons(deps.metadata, c.get("auth").accountId, c.req.param("name"))));
  return app;
}
