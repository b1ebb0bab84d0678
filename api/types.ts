import type { BlobStore } from "../core/blobs/port.ts";
import type { LogStore } from "../core/logs/port.ts";
import type { Encryptor } from "../core/crypto/port.ts";
import type { StoreProvisioner } from "../stores/port.ts";
import type { Metadata } from "../core/metadata/repository.ts";
import type { AuthContext } from "./services/tokens.ts";
import type { BuildRunner } from "./services/builds.ts";
import type { BuildLogs } from "./services/build-logs.ts";
import type { ZodType } from "zod";
import type { HookServer } from "../git/hook-server.ts";
import type { Deployment } from "../core/types.ts";
import type { Resolve } from "../core/net/public-address.ts";

export interface ApiDeps {
  metadata: Metadata;
  blobs: BlobStore;
  builds: BuildRunner;
  /** encrypts env values and secrets at rest */
  encryptor: Encryptor;
  /** provisions `stores` from ferry.json; absent where the platform has none configured */
  stores?: StoreProvisioner;
  buildLogs: BuildLogs;
  /** runtime logs of functions (stdout/stderr, one line per request) */
  logs: LogStore;
  /** apps domain, e.g. `localhost`; host labels are `<label>.<domain>` */
  domain: string;
  /** public URL of a host label, e.g. `http://hello-ab12cd34.localhost:3001` */
  urlFor: (label: string) => string;
  limits: { maxFileSize: number; maxFiles: number };
  /** told when aliases move, so a router in the same process drops its cached lookups */
  onHostsChanged?: (labels: string[]) => void;
  /** told when a project's production deployment changed (promote, rollback, a --prod deploy),
   * so the cron scheduler follows it at once */
  onProductionChanged?: (accountId: string, project: string) => void;
  /** told of what outgoing webhooks report: a deployment created, promoted or removed, an alias assigned */
  onEvent?: (type: "deployment.created" | "deployment.promoted" | "deployment.removed" | "alias.assigned", d: Deployment, extra?: Record<string, unknown>) => void;
  /** told when a deployment is removed, so its running instances can be stopped */
  onDeploymentRemoved?: (deploymentId: string) => void;
  /** git remotes: where the bare repositories live and the push hooks' private socket; absent, `/git` answers 404 */
  git?: { root: string; hooks: HookServer };
  /**
   * Requests made for tenants (outgoing webhooks, fetches of a linked repository) reach only public
   * addresses unless the operator allows private ones (FERRY_ALLOW_PRIVATE_WEBHOOKS,
   * FERRY_ALLOW_PRIVATE_GIT: everything on one machine); `resolve` stands in for DNS in tests.
   */
  egress?: { allowPrivateWebhooks?: boolean; allowPrivateGit?: boolean; resolve?: Resolve };
  /** how this platform contains tenant code, shown by whoami so an operator sees a weak setup */
  sandbox?: { mode: string; identity: string; cgroup: string | null; limits: Record<string, boolean>; warnings: string[] };
}

export type ApiEnv = {
  Variables: {
    auth: AuthContext;
    /** a JSON body as the route's guard validated it (access.ts) */
    body?: { schema: ZodType; value: unknown };
  };
};
