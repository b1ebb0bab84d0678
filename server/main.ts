// The AWS SDK warns about Node 20 on every start; Ferry supports Node >= 20 deliberately.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { startPlatform } from "./platform.ts";
import { defaultHome } from "./home.ts";

// `npm start`: the embedded platform in the foreground until SIGINT/SIGTERM.
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

const platform = await startPlatform({
  home: defaultHome(),
  apiPort: port("FERRY_API_PORT", 3000),
  routerPort: port("FERRY_ROUTER_PORT", 3001),
  domain: process.env.FERRY_DOMAIN || "localhost",
  hostname: process.env.FERRY_HOST || "127.0.0.1",
  // how long an idle function instance lives before it scales to zero
  idleTimeoutMs: process.env.FERRY_IDLE_TIMEOUT_MS ? int("FERRY_IDLE_TIMEOUT_MS", 0, 86_400_000) : undefined,
  log: (l) => console.log(l),
}).catch((e: Error) => {
  console.error(`ferry: could not start: ${e.message}`);
  process.exit(1);
});

console.log(`\nDeploy an app from another terminal:  npx ferry examples/hello`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: shutting down`);
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await platform.close();
  process.exit(0);
};
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
