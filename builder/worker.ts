// Entry of a build process (see child.ts): receives one build over IPC, runs it, reports back, exits.
import { blobStoreFromSpec } from "../core/blobs/from-env.ts";
import { build } from "./build.ts";
import { errorResult } from "./errors.ts";
import type { ParentMessage, WorkerMessage } from "./worker-protocol.ts";

const send = (msg: WorkerMessage) =>
  new Promise<void>((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });

let finished = false;

// the platform went away: take our own process group (npm, build commands) down with us
process.on("disconnect", () => {
  if (!finished) process.kill(-process.pid, "SIGKILL");
});

process.once("message", async (msg: ParentMessage) => {
  if (msg?.type !== "build") return;
  let result;
  try {
    const blobs = blobStoreFromSpec(process.env.FERRY_BLOB_SPEC ?? "");
    result = await build(msg.request, { blobs, workDir: msg.workDir, cacheDir: msg.cacheDir, log: (line) => void send({ type: "log", line }) });
  } catch (e) {
    // a fault of the platform (blob store unreachable, disk full), not of the app
    const err = e as Error;
    void send({ type: "log", line: `Internal build error: ${err.stack ?? err.message}` });
    result = errorResult([{ message: `internal build error: ${err.message}` }]);
  }
  await send({ type: "result", result });
  finished = true;
  process.exit(0);
});
