import {
  DeleteAliasCommand,
  DeleteFunctionCommand,
  InvokeWithResponseStreamCommand,
  ListAliasesCommand,
  type LambdaClient,
  type Runtime,
} from "@aws-sdk/client-lambda";
import type { BlobStore } from "../../core/blobs/port.ts";
import { FerryError, isFerryError } from "../../core/errors.ts";
import type { BuildOutput, Deployment } from "../../core/types.ts";
import type { FunctionHost } from "../port.ts";
import { deployFunction, type DeployOptions } from "./deploy.ts";
import { requestToEvent } from "./event.ts";
import { aliasName, functionName, roleName } from "./names.ts";
import { packageFunction } from "./package.ts";
import { withRetry } from "./retry.ts";
import { grantsFromEnv, type ProjectRoles } from "./roles.ts";
import { responseFromStream } from "./stream-response.ts";

/** Which Lambda (and which of its versions) serves each function of one deployment. Written
 * before the deployment is READY and never changed, so routers may cache it for good. */
export interface LambdaManifest {
  deploymentId: string;
  functions: Record<string, { functionName: string; alias: string; version: string }>;
}

export const manifestKey = (deploymentId: string) => `deployments/${deploymentId}/lambda.json`;

export interface LambdaHostOptions {
  lambda: LambdaClient;
  blobs: BlobStore;
  roles: ProjectRoles;
  /** first part of every function and role name, one per installation; default `ferry` */
  namePrefix?: string;
  runtime?: Runtime;
  deploy?: DeployOptions;
  /** tags on every function (cost allocation, clean-up) */
  tags?: Record<string, string>;
}

export interface LambdaHost extends FunctionHost {
  /** creates or updates the Lambda of each function and publishes this deployment's versions */
  deploy(d: Pick<Deployment, "id" | "accountId" | "project" | "target">, output: BuildOutput, env: Record<string, string>, log?: (line: string) => void): Promise<LambdaManifest>;
}

// Lambda's bounds: 128-10240 MB, 1-900 s
const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(n)));

/**
 * `FunctionHost` on AWS Lambda. Nothing runs here between requests: Lambda scales each version
 * to zero, so an idle deployment costs nothing, and `stats()` has no instances to count.
 */
export function createLambdaHost(opts: LambdaHostOptions): LambdaHost {
  const prefix = opts.namePrefix ?? "ferry";
  const runtime = opts.runtime ?? "nodejs22.x";
  const manifests = new Map<string, Promise<LambdaManifest | null>>();

  function manifest(deploymentId: string): Promise<LambdaManifest | null> {
    let m = manifests.get(deploymentId);
    if (!m) {
      m = opts.blobs.get(manifestKey(deploymentId)).then((b) => (b ? (JSON.parse(b.toString("utf8")) as LambdaManifest) : null));
      manifests.set(deploymentId, m);
      if (manifests.size > 2000) manifests.delete(manifests.keys().next().value!);
      m.then((v) => v || manifests.delete(deploymentId), () => manifests.delete(deploymentId));
    }
    return m;
  }

  return {
    async deploy(d, output, env, log = () => {}) {
      const role = await opts.roles.ensure(roleName(prefix, d.accountId, d.project, d.target), grantsFromEnv(env));
      const functions: LambdaManifest["functions"] = {};
      for (const fn of output.functions) {
        const { zip, sha256 } = await packageFunction(opts.blobs, fn);
        const name = functionName(prefix, d.accountId, d.project, fn.name);
        const alias = aliasName(d.id);
        const version = await deployFunction(
          opts.lambda,
          {
            name,
            alias,
            roleArn: role,
            runtime,
            memory: clamp(fn.config.memory, 128, 10240),
            timeout: clamp(fn.config.maxDuration, 1, 900),
            env,
            zip,
            sha256,
            description: `ferry ${d.project} ${fn.name} ${d.id}`.slice(0, 256),
            tags: { ...opts.tags, "ferry:project": d.project, "ferry:function": fn.name.slice(0, 256) },
          },
          opts.deploy,
        );
        functions[fn.name] = { functionName: name, alias, version };
        log(`Function ${fn.name}: Lambda ${name} version ${version} (${(zip.length / 1024).toFixed(0)} KB)`);
      }
      const m: LambdaManifest = { deploymentId: d.id, functions };
      await opts.blobs.put(manifestKey(d.id), JSON.stringify(m));
      manifests.set(d.id, Promise.resolve(m));
      return m;
    },

    async invoke(target, request, ctx) {
      const entry = (await manifest(target.deploymentId))?.functions[target.fn.name];
      if (!entry) throw new FerryError("function_not_deployed", `function ${target.fn.name} of ${target.deploymentId} has no Lambda`, 502);
      const event = await requestToEvent(request, { path: ctx.path, headers: ctx.headers, params: ctx.params, requestId: ctx.requestId });
      const Payload = Buffer.from(JSON.stringify(event));
      try {
        const res = await withRetry(() => opts.lambda.send(new InvokeWithResponseStreamCommand({ FunctionName: entry.functionName, Qualifier: entry.alias, Payload })), { attempts: 3, baseDelayMs: 50 });
        if (!res.EventStream) throw new FerryError("function_invalid_response", "the invocation returned no stream", 502);
        return await responseFromStream(res.EventStream, ctx.responseHeaders);
      } catch (e) {
        if (isFerryError(e)) throw e;
        const name = (e as Error).name;
        if (name === "RequestEntityTooLargeException") throw new FerryError("payload_too_large", "the request is larger than a function accepts", 413);
        if (name === "TooManyRequestsException") throw new FerryError("function_throttled", "the function is at its concurrency limit; try again", 503);
        throw new FerryError("function_crashed", `invoking the function failed (${name})`, 502);
      }
    },

    /** Removes the deployment's versions and aliases, and a function no deployment uses any more. */
    async evict(deploymentId) {
      const m = await manifest(deploymentId);
      manifests.delete(deploymentId);
      if (!m) return;
      const gone = (e: unknown) => {
        if ((e as Error).name !== "ResourceNotFoundException") throw e;
      };
      for (const f of Object.values(m.functions)) {
        await withRetry(() => opts.lambda.send(new DeleteAliasCommand({ FunctionName: f.functionName, Name: f.alias }))).catch(gone);
        const left = await withRetry(() => opts.lambda.send(new ListAliasesCommand({ FunctionName: f.functionName }))).catch((e) => (gone(e), null));
        if (!left) continue;
        // PublishVersion hands back the previous version when nothing changed, so another
        // deployment's alias may name the same version: it stays while any alias uses it
        if (!left.Aliases?.some((a) => a.FunctionVersion === f.version)) {
          await withRetry(() => opts.lambda.send(new DeleteFunctionCommand({ FunctionName: f.functionName, Qualifier: f.version }))).catch(gone);
        }
        if (!left.Aliases?.length) await withRetry(() => opts.lambda.send(new DeleteFunctionCommand({ FunctionName: f.functionName }))).catch(gone);
      }
      await opts.blobs.delete(manifestKey(deploymentId));
    },

    stats() {
      return { instances: 0, byDeployment: {} };
    },
    async close() {
      manifests.clear();
    },
  };
}
