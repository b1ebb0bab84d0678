import { Hono } from "hono";
import type { ApiEnv } from "../types.ts";
import { jsonBody } from "../access.ts";
import { webhookBodySchema, type WebhookService } from "../services/webhooks.ts";

/** `/v1/webhooks`: the account's outgoing webhooks and their deliveries (scope `webhooks`, access.ts). */
export function webhookRoutes(webhooks: WebhookService) {
  const app = new Hono<ApiEnv>();
  app.post("/", async (c) => c.json(await webhooks.create(c.get("auth"), jsonBody(c, webhookBodySchema)), 201));
  app.get("/", async (c) => c.json({ webhooks: await webhooks.list(c.get("auth")) }));
  app.delete("/:id", async (c) => c.json(await webhooks.remove(c.get("auth"), c.req.param("id"))));
  app.get("/:id/deliveries", async (c) => c.json({ deliveries: await webhooks.deliveries(c.get("auth"), c.req.param("id")) }));
  app.post("/:id/deliveries/:delivery/redeliver", async (c) => c.json(await webhooks.redeliver(c.get("auth"), c.req.param("id"), c.req.param("delivery")), 201));
  return app;
}
