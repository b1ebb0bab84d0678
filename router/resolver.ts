import { blobKeys, type BlobStore } from "../core/blobs/port.ts";
import { FerryError } from "../core/errors.ts";
import type { Encryptor } from "../core/crypto/port.ts";
import type { Metadata } from "../core/metadata/repository.ts";
import type { BuildOutput, Deployment } from "../core/types.ts";
import { vercelEnv } from "../core/vercel-env.ts";
import { CountLru } from "./lru.ts";

/** What the router needs to serve one host. */
export interface Resolved {
  deployment: Deployment;
  /** null until the deployment is READY */
  output: BuildOutput | null;
  /** the function's whole environment: the deployment's env plus FERRY_* facts */
  env: Record<string, string>;
}

export interface ResolverOptions {
  metadata: Metadata;
  blobs: BlobStore;
  /** how long a host -> deployment answer is reused; default 1 s */
  ttlMs?: number;
  /** the apps domain, for FERRY_URL */
  domain?: string;
  /** how many build outputs (and decrypted envs) stay in memory; default 500 */
  maxOutputs?: number;
  /** decrypts `deployment.envCipher`; required once deployments carry an env */
  encryptor?: Encryptor;
  /**
   * Variables that override a deployment's own env when its functions run: on the embedded
   * platform, the deployment's own store credentials and the store gateway's endpoints.
   */
  storeAccess?: (d: Deployment, env: Record<string, string>) => Record<string, string>;
}

export interface Resolver {
  resolve(label: string): Promise<Resolved | null>;
  /** forgets one host label (an alias moved or was removed), or everything */
  invalidate(label?: string): void;
}

/**
 * Host label -> deployment, with a short-lived cache so the hot path does not hit the metadata
 * store per request. Build outputs of READY deployments never change, so they are kept (bounded)
 * by deployment id. Concurrent misses for one label share a single lookup.
 */
export function createResolver(opts: ResolverOptions): Resolver {
  const ttl = opts.ttlMs ?? 1_000;
  const hosts = new Map<string, { at: number; value: Promise<Resolved | null> }>();
  const outputs = new CountLru<Promise<BuildOutput | null>>(opts.maxOutputs ?? 500);
  const envs = new CountLru<Promise<Record<string, string>>>(opts.maxOutputs ?? 500);

  function output(d: Deployment): Promise<BuildOutput | null> {
    if (d.state !== "READY") return Promise.resolve(null);
    let p = outputs.get(d.id);
    if (!p) {
      p = opts.blobs.get(d.outputKey ?? blobKeys.output(d.id)).then((b) => (b ? (JSON.parse(b.toString("utf8")) as BuildOutput) : null));
      outputs.set(d.id, p);
      p.then(
        (o) => o || outputs.delete(d.id),
        () => outputs.delete(d.id),
      );
    }
    return p;
  }

  /** A deployment's env is fixed at deploy time, so it is decrypted once per deployment. */
  function env(d: Deployment): Promise<Record<string, string>> {
    let p = envs.get(d.id);
    if (!p) {
      p = decryptEnv(d, opts.encryptor).then((own) => envOf(d, opts.storeAccess ? { ...own, ...opts.storeAccess(d, own) } : own, opts.domain));
      envs.set(d.id, p);
      p.catch(() => envs.delete(d.id));
    }
    return p;
  }

  async function lookup(label: string): Promise<Resolved | null> {
    const rec = await opts.metadata.getHost(label);
    if (!rec) return null;
    const deployment = await opts.metadata.getDeployment(rec.deploymentId);
    // a removed deployment keeps its record for history, but its host no longer serves
    if (!deployment || deployment.removedAt) return null;
    if (deployment.state !== "READY") return { deployment, output: null, env: {} };
    const [out, e] = await Promise.all([output(deployment), env(deployment)]);
    return { deployment, output: out, env: e };
  }

  return {
    resolve(label) {
      const now = Date.now();
      const hit = hosts.get(label);
      if (hit && now - hit.at < ttl) return hit.value;
      // cached from the start, so concurrent misses share it; a lookup still running when
      // invalidate() drops it is simply not reused
      const value = lookup(label);
      hosts.set(label, { at: now, value });
      value.catch(() => {
        if (hosts.get(label)?.value === value) hosts.delete(label);
      });
      // bound the cache by sweeping expired entries now and then
      if (hosts.size > 10_000) for (const [k, v] of hosts) if (now - v.at >= ttl) hosts.delete(k);
      return value;
    },
    invalidate(label) {
      if (label === undefined) hosts.clear();
      else hosts.delete(label.toLowerCase());
    },
  };
}

async function decryptEnv(d: Deployment, encryptor?: Encryptor): Promise<Record<string, string>> {
  if (!d.envCipher) return {};
  if (!encryptor) throw new FerryError("env_unavailable", `deployment ${d.id} has an encrypted env but the router has no key`, 500);
  return JSON.parse(await encryptor.decrypt(d.envCipher)) as Record<string, string>;
}

/** The deployment's own env plus what Ferry tells every function about where it runs, under
 * Ferry's names and Vercel's (code written for Vercel checks VERCEL_ENV, VERCEL_URL...). */
export function envOf(d: Deployment, own: Record<string, string>, domain?: string): Record<string, string> {
  return {
    ...own,
    ...vercelEnv(d, domain),
    FERRY_DEPLOYMENT_ID: d.id,
    FERRY_PROJECT: d.project,
    FERRY_URL: domain ? `${d.host}.${domain}` : d.host,
    FERRY_ENV: d.target === "production" ? "production" : "preview",
  };
}
