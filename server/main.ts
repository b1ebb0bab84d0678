// The AWS SDK warns about Node 20 on every start; Ferry supports Node >= 20 deliberately.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { startPlatform, type Platform } from "./platform.ts";
import { defaultHome } from "./home.ts";
import { acquireHomeLock, AlreadyRunningError, type HomeLock } from "./lock.ts";
import { isAlive, npmAbove } from "./parent.ts";

// `npm start`: the embedded platform in the foreground until SIGINT/SIGTERM/SIGHUP, or until the
// npm process that started it goes away.
const int = (name: string, fallback: number, max: number) => {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    console.error(`ferry: ${name} must be a whole number from 0 to ${max}, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
};
const port = (name: string, fallback: number) => int(name, fallback, 65535);

const home = defaultHome();
const options = {
  home,
  apiPort: port("FERRY_API_PORT", 3000),
  routerPort: port("FERRY_ROUTER_PORT", 3001),
  domain: process.env.FERRY_DOMAIN || "localhost",
  hostname: process.env.FERRY_HOST || "127.0.0.1",
  // how long an idle function instance lives before it scales to zero
  idleTimeoutMs: process.env.FERRY_IDLE_TIMEOUT_MS ? int("FERRY_IDLE_TIMEOUT_MS", 0, 86_400_000) : undefined,
  // operator-only: tenants' webhooks and linked repositories may then reach this host's and its
  // network's services (everything on one machine, tests); off, only public addresses
  allowPrivateWebhooks: process.env.FERRY_ALLOW_PRIVATE_WEBHOOKS === "1",
  allowPrivateGit: process.env.FERRY_ALLOW_PRIVATE_GIT === "1",
  log: (l: string) => console.log(l),
};

// one platform per FERRY_HOME: a second start would fight the first over its metadata and ports
let lock: HomeLock;
try {
  lock = await acquireHomeLock(home);
} catch (e) {
  console.error(e instanceof AlreadyRunningError ? e.message : `ferry: could not start: ${(e as Error).message}`);
  process.exit(1);
}
process.on("exit", () => lock.releaseSync());

let platform: Platform | undefined;
let stopping: string | undefined;
const stop = async (why: string) => {
  if (stopping) return;
  stopping = why;
  if (!platform) return; // still starting: stopped as soon as it is up
  console.log(`\n${why}: shutting down`);
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await platform.close().catch((e: Error) => console.error(`ferry: while stopping: ${e.message}`));
  await lock.release();
  process.exit(0);
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop(signal));

// `npm start` runs this through `sh -c`: a SIGTERM to npm ends npm and the shell but never reaches
// this process, and a SIGKILL to npm leaves the shell waiting. Either way this would be left
// serving with no one to stop it. So when npm started it, npm or the shell going away means stop.
if (process.env.npm_lifecycle_event) {
  const parent = process.ppid;
  const npm = npmAbove(parent);
  setInterval(() => {
    if (process.ppid !== parent || (npm !== undefined && !isAlive(npm))) void stop("npm exited");
  }, 250).unref();
}

try {
  platform = await startPlatform(options);
} catch (e) {
  console.error(`ferry: could not start: ${(e as Error).message}`);
  await lock.release();
  process.exit(1);
}

if (stopping) {
  const why = stopping;
  stopping = undefined;
  await stop(why);
} else {
  console.log(`\nDeploy an app from another terminal, in ${process.cwd()}:  npx ferry examples/hello`);
  console.log(`(or from any folder with \`ferry\` after \`npm link\` here). Stop with Ctrl-C or \`kill ${process.pid}\`.`);
}
