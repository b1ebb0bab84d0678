import { Hono } from "hono";
import type { ApiDeps, ApiEnv } from "./types.ts";
import { onApiError, notFound } from "./errors.ts";
import { verifyToken } from "./services/tokens.ts";
import { deploymentService } from "./services/deployments.ts";
import { aliasService } from "./services/aliases.ts";
import { filesRoutes } from "./routes/files.ts";
import { deploymentRoutes } from "./routes/deployments.ts";
import { aliasRoutes, projectRoutes } from "./routes/aliases.ts";
import { envService } from "./services/env.ts";
import { envRoutes } from "./routes/env.ts";
import { storeService } from "./services/stores.ts";
import { storeRoutes } from "./routes/stores.ts";
import { logRoutes } from "./routes/logs.ts";
import { tokenRoutes } from "./routes/tokens.ts";
import { cronRoutes } from "./routes/crons.ts";
import { gitDeployService } from "./services/git-deploy.ts";
import { gitPushService } from "./services/git-push.ts";
import { gitRemoteRoutes, gitSettingsRoutes } from "./routes/git.ts";
import { gitSettingsService } from "./services/git-settings.ts";
import { deployHookService } from "./services/git-deploy-hooks.ts";
import { deployHookRoutes, deployHookTriggerRoutes } from "./routes/deploy-hooks.ts";
import { webhookService, withWebhookEvents } from "./services/webhooks.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { gitProviderService } from "./services/git-providers.ts";
import { gitWebhookRoutes } from "./routes/git.ts";
import { openApiDocument } from "./openapi.ts";
import { guard, ROUTES } from "./access.ts";

/** The control plane: a Hono app over the services. Every route but health and the OpenAPI
 * document needs a token; what each route needs beyond that is in access.ts. */
export function createApi(apiDeps: ApiDeps) {
  // outgoing webhooks hear of deployments, promotions and aliases through the services' deps
  const webhooks = webhookService(apiDeps);
  const deps = withWebhookEvents(apiDeps, webhooks);
  const deployments = deploymentService(deps);
  const aliases = aliasService(deps, deployments);
  const envs = envService(deps);
  const stores = storeService(deps);
  const gitDeploy = gitDeployService(deps, deployments, aliases);
  const gitProviders = gitProviderService(deps, gitDeploy);
  const deployHooks = deployHookService(deps, gitDeploy, { sync: gitProviders.syncBranch });
  const app = new Hono<ApiEnv>();
  app.onError(onApiError);
  app.notFound(notFound);

  // git remotes speak git's protocol with Basic auth, not the API's bearer tokens
  if (deps.git) app.route("/git", gitRemoteRoutes({ ...deps, git: deps.git }, gitPushService(gitDeploy)));
  // deploy hooks: the secret in the URL is the credential, so they come before the token check
  app.route("/v1/deploy-hooks", deployHookTriggerRoutes(deployHooks));
  app.route("/v1/git/webhooks", gitWebhookRoutes(gitProviders));
  app.get("/v1/health", (c) => c.json({ ok: true }));
  const spec = openApiDocument(deps.limits);
  app.get("/v1/openapi.json", (c) => c.json(spec));

  app.use("/v1/*", async (c, next) => {
    if (c.req.path === "/v1/openapi.json") return next();
    c.set("auth", await verifyToken(deps.metadata, c.req.header("authorization")));
    await next();
  });
  // in front of every route: its scope, then its JSON body (parsed strictly, size-limited)
  for (const route of ROUTES) if (route.access !== "public") app.on(route.method, route.path, guard(route, deps.limits));

  app.get("/v1/whoami", async (c) => {
    const auth = c.get("auth");
    const account = await deps.metadata.getAccount(auth.accountId);
    return c.json({ accountId: auth.accountId, account: account?.name, tokenId: auth.tokenId, scopes: auth.scopes, ...(deps.sandbox ? { sandbox: deps.sandbox } : {}) });
  });
  app.route("/v1/files", filesRoutes(deps));
  app.route("/v1/deployments", deploymentRoutes(deps, deployments, aliases));
  app.route("/v1/deployments", logRoutes(deps.logs, deployments));
  app.route("/v1/aliases", aliasRoutes(aliases));
  app.route("/v1/projects", projectRoutes(deps, aliases));
  app.route("/v1/projects", envRoutes(envs));
  app.route("/v1/projects", gitSettingsRoutes(gitSettingsService(deps)));
  app.route("/v1/projects", deployHookRoutes(deployHooks));
  app.route("/v1/projects", cronRoutes(deps));
  app.route("/v1/stores", storeRoutes(stores));
  app.route("/v1/tokens", tokenRoutes(deps.metadata));
  app.route("/v1/webhooks", webhookRoutes(webhooks));

  return { app, services: { deployments, aliases, envs, stores, gitDeploy, webhooks } };
}
