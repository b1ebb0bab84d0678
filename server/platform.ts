import { join } from "node:path";
import { rm, mkdir } from "node:fs/promises";
import { createFsBlobStore } from "../core/blobs/fs.ts";
import { createDocClient, ensureTable } from "../core/metadata/table.ts";
import { createMetadata } from "../core/metadata/repository.ts";
import { randomId } from "../core/ids.ts";
import { createApi } from "../api/app.ts";
import { createBuildLogs } from "../api/services/build-logs.ts";
import { createBuildRunner } from "../api/services/builds.ts";
import { runBuildInChild } from "../builder/child.ts";
import { buildLimitsFromEnv } from "../builder/build-limits.ts";
import { createLocalHost } from "../runtime/local/host.ts";
import { createRouter } from "../router/app.ts";
import { nodeListener } from "../router/node.ts";
import { createResolver } from "../router/resolver.ts";
import { startDynalite } from "./services/dynalite.ts";
import { privateSocket, unixSocketAwsConfig } from "./services/unix-socket.ts";
import { ensureAdmin } from "./bootstrap-admin.ts";
import { ensureHome, homePaths, removeFile, writeJsonFile, type ServerInfo } from "./home.ts";
import { listen } from "./listen.ts";
import { createFileLogStore } from "../core/logs/file.ts";
import { createAesEncryptor, loadOrCreateKey } from "../core/crypto/local.ts";
import { linkDeployment } from "../api/services/link.ts";
import { startAppDataServices } from "../stores/embedded.ts";
import { loadStoreCredentials } from "../stores/credentials.ts";
import { deploymentGrants, deploymentStoreEnv } from "../stores/deployment-access.ts";
import { defaultSandbox } from "../sandbox/default.ts";
import { createCronScheduler } from "../crons/scheduler.ts";
import { startHookServer } from "../git/hook-server.ts";

export interface PlatformOptions {
  home: string;
  apiPort?: number;
  routerPort?: number;
  /** apps domain: deployments are served at `<label>.<domain>` */
  domain?: string;
  hostname?: string;
  maxFileSize?: number;
  /** scale-to-zero delay for function instances */
  idleTimeoutMs?: number;
  /** the operator's opt-outs of the public-addresses-only rule for requests made for tenants */
  allowPrivateWebhooks?: boolean;
  allowPrivateGit?: boolean;
  log?: (line: string) => void;
}

export type Platform = Awaited<ReturnType<typeof startPlatform>>;

/**
 * The embedded platform: dynalite (metadata, persisted under FERRY_HOME), the filesystem blob
 * store, the API, the build queue, the router and the local function host, in one process.
 */
export async function startPlatform(opts: PlatformOptions) {
  const paths = homePaths(opts.home);
  const log = opts.log ?? (() => {});
  const domain = (opts.domain ?? "localhost").toLowerCase();
  // first: a host that cannot contain tenant code refuses to start unless the operator opted out
  const sandbox = defaultSandbox();
  await ensureHome(paths.home);
  await mkdir(paths.blobs, { recursive: true });

  // metadata is reached over a Unix socket in a 0700 folder, never over TCP: nothing a function
  // runs can connect to it
  const metadataSocket = await privateSocket(join(paths.home, "run"), "metadata.sock");
  const dynamo = await startDynalite({ path: paths.metadata, socket: metadataSocket.path });
  const doc = createDocClient(unixSocketAwsConfig(metadataSocket.path));
  await ensureTable(doc, "ferry");
  const metadata = createMetadata(doc, "ferry");
  const blobs = createFsBlobStore(paths.blobs);
  const admin = await ensureAdmin(metadata, paths.credentials);

  const encryptor = createAesEncryptor(await loadOrCreateKey(paths.secretKey));
  const storeCredentials = await loadStoreCredentials(paths.home);
  const appData = await startAppDataServices(paths.home, { authorize: deploymentGrants({ metadata, encryptor, credentials: storeCredentials }) });
  const logs = createFileLogStore(paths.logs);
  const host = createLocalHost({ blobs, cacheDir: paths.functionCache, idleTimeoutMs: opts.idleTimeoutMs, sandbox, onLog: (e) => logs.append(e) });
  const resolver = createResolver({ metadata, blobs, domain, encryptor, storeAccess: deploymentStoreEnv(storeCredentials, appData) });
  const router = createRouter({ domain, resolve: resolver.resolve, host, blobs });
  // the router gets its own thin Node adapter rather than the general Web one: the data plane's
  // hot path writes a function's response straight into the socket and builds no Web Request
  const routerServer = await listen({ listener: nodeListener(router.fetch) }, opts.routerPort ?? 0, opts.hostname);
  const routerUrl = routerServer.url;
  const urlFor = (label: string) => `http://${label}.${domain}:${routerServer.port}`;

  // git pushes: bare repositories under FERRY_HOME/git; their pre-receive hook reaches the
  // platform over a Unix socket in the private run folder, with a capability per push
  const gitHookSocket = await privateSocket(join(paths.home, "run"), "git-hooks.sock");
  const gitHooks = await startHookServer({ socketPath: gitHookSocket.path, hooksDir: join(paths.home, "git-hooks"), log });
  // vercel.json `crons`: GET through the router on each production deployment (crons/README.md)
  const crons = createCronScheduler({
    metadata,
    fetch: (req) => router.fetch(req),
    domain,
    cronSecret: async (d) => (d.envCipher ? (JSON.parse(await encryptor.decrypt(d.envCipher)) as Record<string, string>).CRON_SECRET : undefined),
    logs,
    log,
  });

  const buildLogs = createBuildLogs(blobs);
  // FERRY_BUILD_TIMEOUT_S, FERRY_BUILD_MEMORY_MB, FERRY_BUILD_DISK_MB, FERRY_BUILD_PIDS
  const buildLimits = buildLimitsFromEnv();
  let api: ReturnType<typeof createApi> | undefined;
  const builds = createBuildRunner({
    metadata,
    blobs,
    logs: buildLogs,
    execute: async (req, { onLog, signal }) => {
      const workDir = join(paths.builds, `${req.deploymentId}-${randomId(6)}`);
      try {
        return await runBuildInChild(req, { blobs, workDir, cacheDir: paths.buildCache, onLog, signal, sandbox, limits: buildLimits });
      } finally {
        await rm(workDir, { recursive: true, force: true }).catch(() => {});
      }
    },
    decrypt: (c) => encryptor.decrypt(c),
    domain,
    link: (d, log) => linkDeployment({ metadata, encryptor, stores: appData.provisioner }, d, log),
    onReady: async (d) => {
      if (d.target === "production") await api!.services.aliases.promote({ accountId: d.accountId, tokenId: "system", scopes: ["*"] }, d);
    },
  });

  api = createApi({
    metadata,
    encryptor,
    logs,
    stores: appData.provisioner,
    blobs,
    builds,
    buildLogs,
    domain,
    urlFor,
    limits: { maxFileSize: opts.maxFileSize ?? 100 * 1024 * 1024, maxFiles: 20_000 },
    onHostsChanged: (labels) => labels.forEach((l) => resolver.invalidate(l)),
    onProductionChanged: (accountId, project) => void crons.productionChanged(accountId, project),
    onDeploymentRemoved: (id) => {
      appData.forget(storeCredentials.accessKeyIdFor(id));
      void host.evict(id).catch(() => {});
    },
    sandbox: sandbox.status,
    git: { root: join(paths.home, "git"), hooks: gitHooks },
    egress: { allowPrivateWebhooks: opts.allowPrivateWebhooks, allowPrivateGit: opts.allowPrivateGit },
  });
  // before the API answers: promotions a crash interrupted are carried out, so every alias of a
  // project names the deployment its record does
  for (const p of await api.services.aliases.recover(log)) log(`Finished the interrupted promotion of ${p.project} (production: ${p.deploymentId ?? "none"})`);
  const apiServer = await listen({ fetch: api.app.fetch }, opts.apiPort ?? 0, opts.hostname);

  await builds.recover();
  // webhook deliveries a stop interrupted are sent again
  api.services.webhooks.recover();
  // after the promotion replay, so it reads each project's settled production deployment
  await crons.start();

  const info: ServerInfo = { apiUrl: apiServer.url, routerUrl, domain, pid: process.pid, sandbox: sandbox.status };
  await writeJsonFile(paths.serverJson, info);
  log(`Ferry is running (FERRY_HOME=${paths.home})`);
  log(`  API:   ${apiServer.url}`);
  log(`  Apps:  http://<name>.${domain}:${routerServer.port}  (router at ${routerUrl})`);
  log(`  Token: ${paths.credentials}${admin.created ? " (created)" : ""}`);
  const sb = sandbox.status;
  log(sb.mode === "none" ? "  Sandbox: NONE: deployed code runs with this platform's rights" : `  Sandbox: ${sb.mode}, tenant code runs as ${sb.identity}; limits by cgroup ${sb.cgroup ?? "(none)"}`);
  for (const w of sb.warnings) log(`  WARNING: ${w}`);
  if (opts.allowPrivateWebhooks) log("  WARNING: webhooks may be sent to loopback and private addresses (FERRY_ALLOW_PRIVATE_WEBHOOKS)");
  if (opts.allowPrivateGit) log("  WARNING: linked repositories may be fetched from loopback and private addresses (FERRY_ALLOW_PRIVATE_GIT)");

  let closed = false;
  return {
    ...info,
    home: paths.home,
    token: admin.token,
    accountId: admin.accountId,
    metadata,
    blobs,
    builds,
    host,
    urlFor,
    async close() {
      if (closed) return;
      closed = true;
      await removeFile(paths.serverJson);
      await crons.stop();
      await builds.shutdown();
      api!.services.webhooks.stop();
      await Promise.allSettled([apiServer.close(), routerServer.close()]);
      await gitHooks.close();
      await gitHookSocket.dispose();
      await buildLogs.close();
      await host.close();
      await logs.close();
      doc.destroy();
      await Promise.allSettled([dynamo.end(), appData.end()]);
      await metadataSocket.dispose();
    },
  };
}
