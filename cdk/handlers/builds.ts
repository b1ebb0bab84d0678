// The build coordinator: one asynchronous invocation per deployment (sent by the API). It runs the
// same build runner as the embedded platform (QUEUED -> BUILDING -> READY | ERROR, conditional
// writes, build log in S3), has the build itself done by the build worker Lambda (streamed back
// line by line), then links the stores, deploys the functions as Lambda versions and promotes.
import { InvokeWithResponseStreamCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { STSClient } from "@aws-sdk/client-sts";
import { createApi } from "../../api/app.ts";
import { createBuildLogs } from "../../api/services/build-logs.ts";
import { createBuildRunner, type ExecuteBuild } from "../../api/services/builds.ts";
import { linkDeployment } from "../../api/services/link.ts";
import { blobKeys } from "../../core/blobs/port.ts";
import type { BuildOutput, BuildResult } from "../../core/types.ts";
import { envOf } from "../../router/resolver.ts";
import { lambdaHostFromEnv, need, platformFromEnv, runtimeLogsFromEnv, storesFromEnv } from "./platform.ts";
import { readLines } from "./lines.ts";
import type { WorkerEvent } from "./build-worker.ts";
import { mintBuildCredentials } from "../../runtime/lambda/build-credentials.ts";

export interface BuildEvent {
  ferry: "build";
  deploymentId: string;
  /** an earlier identical build to reuse instead of building */
  reuse?: { deploymentId: string; outputKey: string };
}

const p = platformFromEnv();
const lambda = new LambdaClient({ region: p.region });
const sts = new STSClient({ region: p.region });
/** the worker's timeout (the stack sets both from one setting) */
const BUILD_SECONDS = Number(process.env.FERRY_BUILD_TIMEOUT_SECONDS) || 900;
const host = lambdaHostFromEnv(p);
const buildLogs = createBuildLogs(p.blobs);
const stores = storesFromEnv(p);

/** The worker streams NDJSON: `{"log": line}` as the build goes, then `{"result": BuildResult}`. */
const execute: ExecuteBuild = async (req, { onLog, signal }) => {
  // the worker's own role reaches nothing: this build's credentials reach this build's blobs only
  const credentials = await mintBuildCredentials({ sts, roleArn: need("FERRY_BUILD_ROLE"), bucket: need("FERRY_BUCKET"), req, durationSeconds: BUILD_SECONDS + 300 });
  const event: WorkerEvent = { request: req, credentials };
  const res = await lambda.send(new InvokeWithResponseStreamCommand({ FunctionName: need("FERRY_BUILD_WORKER_FUNCTION"), Payload: Buffer.from(JSON.stringify(event)) }), { abortSignal: signal });
  let result: BuildResult | null = null;
  for await (const line of readLines(res.EventStream!)) {
    const msg = JSON.parse(line) as { log?: string; result?: BuildResult };
    if (msg.log !== undefined) onLog(msg.log);
    if (msg.result) result = msg.result;
  }
  return result ?? { type: "error", errors: [{ message: "the build worker ended without a result (out of time or memory?)" }] };
};

let api: ReturnType<typeof createApi>;
let outputKey = "";
const runner = createBuildRunner({
  metadata: p.metadata,
  blobs: p.blobs,
  logs: buildLogs,
  execute,
  decrypt: (c) => p.encryptor.decrypt(c),
  link: async (d, log) => {
    const linked = await linkDeployment({ metadata: p.metadata, encryptor: p.encryptor, stores }, d, log);
    const own = JSON.parse(await p.encryptor.decrypt(linked.envCipher!)) as Record<string, string>;
    const output = JSON.parse((await p.blobs.get(outputKey))!.toString("utf8")) as BuildOutput;
    // the env is fixed at deploy time on Lambda (a version's env cannot change), as it is embedded
    await host.deploy(d, output, envOf(d, own, p.domain), log);
    return linked;
  },
  onReady: async (d) => {
    if (d.target === "production") await api.services.aliases.promote({ accountId: d.accountId, tokenId: "system", scopes: ["*"] }, d);
  },
});
api = createApi({ metadata: p.metadata, blobs: p.blobs, encryptor: p.encryptor, stores, builds: runner, buildLogs, logs: runtimeLogsFromEnv(p), domain: p.domain, urlFor: (l) => `https://${l}.${p.domain}`, limits: { maxFileSize: 100 * 1024 * 1024, maxFiles: 20_000 } });

export async function handler(event: BuildEvent): Promise<void> {
  const d = await p.metadata.getDeployment(event.deploymentId);
  if (!d || d.state !== "QUEUED") return; // canceled, or a repeated delivery of the event
  outputKey = event.reuse?.outputKey ?? blobKeys.output(d.id);
  if (event.reuse) await runner.reuse(d, event.reuse);
  else {
    runner.enqueue(d);
    await runner.whenIdle();
  }
  await buildLogs.close();
}
