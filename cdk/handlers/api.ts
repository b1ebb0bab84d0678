// The control plane on Lambda: the same Hono app as embedded, behind a function URL in
// RESPONSE_STREAM mode (build events and logs are NDJSON streams).
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { Hono } from "hono";
import { streamHandle } from "hono/aws-lambda";
import { createApi } from "../../api/app.ts";
import { createBuildLogs } from "../../api/services/build-logs.ts";
import type { BuildRunner } from "../../api/services/builds.ts";
import { createBuildRunner } from "../../api/services/builds.ts";
import type { BuildEvent } from "./builds.ts";
import { lambdaHostFromEnv, need, platformFromEnv, runtimeLogsFromEnv, storesFromEnv } from "./platform.ts";

const p = platformFromEnv();
const lambda = new LambdaClient({ region: p.region });
// removes a deployment's Lambda versions and aliases (the API role may delete ferry-* functions)
const host = lambdaHostFromEnv(p);
const buildLogs = createBuildLogs(p.blobs);
const stores = storesFromEnv(p);
const appsUrl = (label: string) => `https://${label}.${p.domain}`;

// The API Lambda does not build: a build outlives the request that queued it, so each one is
// handed to the build coordinator (its own Lambda, up to 15 minutes) as an asynchronous event.
// What stays here is what answers at once: cancel (a conditional write the coordinator sees),
// reuse of an earlier build, and nothing queued in memory.
const local = createBuildRunner({
  metadata: p.metadata,
  blobs: p.blobs,
  logs: buildLogs,
  execute: async () => {
    throw new Error("builds run in the build coordinator");
  },
  decrypt: (c) => p.encryptor.decrypt(c),
  link: async () => {
    throw new Error("linking runs in the build coordinator");
  },
  onReady: async () => {},
});
const pending = new Set<Promise<unknown>>();
/** Work the response must wait for: a frozen sandbox runs nothing after it. */
function hold(work: Promise<unknown>) {
  pending.add(work);
  void work.finally(() => pending.delete(work));
}
function queue(payload: BuildEvent) {
  hold(
    lambda
      .send(new InvokeCommand({ FunctionName: need("FERRY_BUILDS_FUNCTION"), InvocationType: "Event", Payload: Buffer.from(JSON.stringify(payload)) }))
      .catch((e) => console.error(`[builds] queueing ${payload.deploymentId} failed:`, e)),
  );
}
const builds: BuildRunner = {
  ...local,
  enqueue: (d) => queue({ ferry: "build", deploymentId: d.id }),
  // the coordinator links, deploys the functions and promotes: a reused output goes that way too
  reuse: async (d, cached) => (queue({ ferry: "build", deploymentId: d.id, reuse: cached }), d),
  recover: async () => {},
  shutdown: async () => {},
};

const { app } = createApi({
  metadata: p.metadata,
  blobs: p.blobs,
  encryptor: p.encryptor,
  stores,
  builds,
  buildLogs,
  logs: runtimeLogsFromEnv(p),
  domain: p.domain,
  urlFor: appsUrl,
  limits: { maxFileSize: 100 * 1024 * 1024, maxFiles: 20_000 },
  // a removed deployment's functions go too: nothing of it is left to run or to pay for
  onDeploymentRemoved: (id) => hold(host.evict(id).catch((e) => console.error(`[functions] removing ${id} failed:`, e))),
});

// a frozen sandbox runs nothing: the build event must be sent before the response ends
const outer = new Hono();
outer.all("*", async (c) => {
  const res = await app.fetch(c.req.raw);
  await Promise.allSettled([...pending]);
  return res;
});

export const handler = streamHandle(outer);
