// Entry of a sandboxed build process (see child.ts): receives one phase of a build on fd 3, runs
// it in the workspace, reports back, exits. It has no blob store of its own: ipc-blobs.ts asks
// the platform. It is bundled into one file (worker-bundle.ts), so it needs nothing of the repo.
import { buildInWorkspace } from "./build.ts";
import { UserBuildError } from "./errors.ts";
import { commandEnv } from "./exec.ts";
import { runInstall } from "./install.ts";
import { ipcBlobStore } from "./ipc-blobs.ts";
import type { ParentMessage, WorkerMessage } from "./worker-protocol.ts";
import { Socket } from "node:net";
import { frameChannel } from "./frames.ts";

// fd 3 is the channel to the platform (frames.ts); when the platform goes away it ends, and the
// sandbox (its pid namespace) ends with this process
const socket = new Socket({ fd: 3, readable: true, writable: true });
socket.on("end", () => process.exit(1));
const channel = frameChannel<ParentMessage, WorkerMessage>(socket, {
  // what the platform sends is its own: a blob the build asked for, at most a bundle's size
  maxBytes: 2 ** 31,
  onMessage: (msg) => {
    if (msg?.type === "blob-reply") onReply(msg);
    else if (msg?.type === "start") void run(msg);
  },
  onError: () => process.exit(1),
});
const send = (msg: WorkerMessage) => channel.send(msg);

const workDir = process.env.FERRY_WORKSPACE ?? process.cwd();
const { blobs, onReply } = ipcBlobStore((msg) => void send(msg));
const log = (line: string) => void send({ type: "log", line });


async function run(msg: Extract<ParentMessage, { type: "start" }>) {
  let outcome: WorkerMessage;
  try {
    const npmCache = process.env.FERRY_NPM_CACHE;
    const env = commandEnv(workDir, msg.request.buildEnv, npmCache ? { npm_config_cache: npmCache } : {});
    if (msg.phase === "install") {
      await runInstall({ workDir, config: msg.request.config, env, log });
      outcome = { type: "done", output: null };
    } else {
      const output = await buildInWorkspace(msg.request, { workDir, blobs, log, env }, msg.limits, msg.plan);
      outcome = { type: "done", output };
    }
  } catch (e) {
    if (e instanceof UserBuildError) outcome = { type: "failed", errors: e.errors };
    else {
      // a fault of the platform (a refused blob request, disk full), not of the app
      const err = e as Error;
      outcome = { type: "internal", message: err.message ?? String(err), stack: err.stack };
    }
  }
  await send(outcome);
  process.exit(0);
}
