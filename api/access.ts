import type { Context, MiddlewareHandler } from "hono";
import type { z } from "zod";
import type { ApiDeps, ApiEnv } from "./types.ts";
import { requireScope, type Scope } from "./services/tokens.ts";
import { decodeJson, deploymentBodyLimit, JSON_BODY_LIMIT, readLimited, validateBody } from "./body.ts";
import { aliasBodySchema, deployBodySchema, envBodySchema, tokenBodySchema } from "./bodies.ts";
import { deployHookBodySchema } from "./services/git-meta.ts";
import { webhookBodySchema } from "./services/webhooks.ts";
import { gitSettingsBodySchema } from "./services/git-meta.ts";

/** `public`: no token; `token`: any valid token; otherwise the scope a token needs (`*` holds all). */
export type Access = "public" | "token" | Scope;

export interface RouteAccess {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Hono pattern, as the route is registered */
  path: string;
  access: Access;
  /** a JSON body, parsed strictly before the handler runs */
  body?: z.ZodType;
  /** the file list route: its body limit grows with the file limit */
  fileList?: true;
}

/**
 * Who may call each route and what JSON it takes: enforced in front of every route by app.ts,
 * documented by openapi.ts (`x-ferry-scope`, `x-ferry-body-limit`), and walked by a test with a
 * token of each scope. A route missing here is missing from the OpenAPI document, which fails
 * that test.
 */
export const ROUTES: RouteAccess[] = [
  { method: "GET", path: "/v1/health", access: "public" },
  { method: "GET", path: "/v1/openapi.json", access: "public" },
  { method: "GET", path: "/v1/whoami", access: "token" },
  { method: "POST", path: "/v1/files", access: "deployments" },
  { method: "PUT", path: "/v1/files", access: "deployments" },
  { method: "POST", path: "/v1/files/batch", access: "deployments" },
  { method: "GET", path: "/v1/deployments", access: "deployments" },
  { method: "POST", path: "/v1/deployments", access: "deployments", body: deployBodySchema, fileList: true },
  { method: "GET", path: "/v1/deployments/:idOrHost", access: "deployments" },
  { method: "DELETE", path: "/v1/deployments/:idOrHost", access: "deployments" },
  { method: "POST", path: "/v1/deployments/:idOrHost/cancel", access: "deployments" },
  { method: "POST", path: "/v1/deployments/:idOrHost/promote", access: "deployments" },
  { method: "GET", path: "/v1/deployments/:idOrHost/events", access: "deployments" },
  { method: "GET", path: "/v1/deployments/:idOrHost/logs", access: "logs" },
  { method: "GET", path: "/v1/aliases", access: "aliases" },
  { method: "POST", path: "/v1/aliases", access: "aliases", body: aliasBodySchema },
  { method: "DELETE", path: "/v1/aliases/:alias", access: "aliases" },
  { method: "GET", path: "/v1/projects", access: "deployments" },
  { method: "POST", path: "/v1/projects/:name/rollback", access: "aliases" },
  { method: "GET", path: "/v1/projects/:name/env", access: "env" },
  { method: "POST", path: "/v1/projects/:name/env", access: "env", body: envBodySchema },
  { method: "DELETE", path: "/v1/projects/:name/env/:key", access: "env" },
  { method: "GET", path: "/v1/projects/:name/crons", access: "deployments" },
  { method: "GET", path: "/v1/stores", access: "stores" },
  { method: "DELETE", path: "/v1/stores/:project/:name", access: "stores" },
  { method: "GET", path: "/v1/tokens", access: "tokens" },
  { method: "POST", path: "/v1/tokens", access: "tokens", body: tokenBodySchema },
  { method: "DELETE", path: "/v1/tokens/:id", access: "tokens" },
  { method: "GET", path: "/v1/projects/:name/git", access: "deployments" },
  { method: "PUT", path: "/v1/projects/:name/git", access: "deployments", body: gitSettingsBodySchema },
  { method: "GET", path: "/v1/projects/:name/deploy-hooks", access: "deployments" },
  { method: "POST", path: "/v1/projects/:name/deploy-hooks", access: "deployments", body: deployHookBodySchema },
  { method: "DELETE", path: "/v1/projects/:name/deploy-hooks/:id", access: "deployments" },
  { method: "POST", path: "/v1/deploy-hooks/:secret", access: "public" },
  { method: "POST", path: "/v1/git/webhooks/:projectId", access: "public" },
  { method: "GET", path: "/v1/webhooks", access: "webhooks" },
  { method: "POST", path: "/v1/webhooks", access: "webhooks", body: webhookBodySchema },
  { method: "DELETE", path: "/v1/webhooks/:id", access: "webhooks" },
  { method: "GET", path: "/v1/webhooks/:id/deliveries", access: "webhooks" },
  { method: "POST", path: "/v1/webhooks/:id/deliveries/:delivery/redeliver", access: "webhooks" },
];

export const bodyLimitOf = (route: RouteAccess, limits: ApiDeps["limits"]) => (route.fileList ? deploymentBodyLimit(limits.maxFiles) : JSON_BODY_LIMIT);

/** Runs before a route's handler: the scope first (so a denied call learns nothing more), then the body. */
export function guard(route: RouteAccess, limits: ApiDeps["limits"]): MiddlewareHandler<ApiEnv> {
  const limit = bodyLimitOf(route, limits);
  return async (c, next) => {
    if (route.access !== "token" && route.access !== "public") requireScope(c.get("auth"), route.access);
    if (route.body) {
      const { text, value } = decodeJson(await readLimited(c.req.raw, limit));
      c.set("body", { schema: route.body, value: validateBody(value, route.body) });
      // the raw body is consumed: c.req.json() and c.req.text() answer from the text read here
      (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
    }
    await next();
  };
}

/** The route's body as its guard validated it. */
export function jsonBody<S extends z.ZodType>(c: Context<ApiEnv>, schema: S): z.infer<S> {
  const body = c.get("body");
  if (!body || body.schema !== schema) throw new Error(`${c.req.method} ${c.req.routePath} reads a body its entry in ROUTES does not declare`);
  return body.value as z.infer<S>;
}
