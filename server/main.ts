// The AWS SDK warns about Node 20 on every start; Ferry supports Node >= 20 deliberately.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { startPlatform } from "./platform.ts";
import { defaultHome } from "./home.ts";

// `npm start`: the embedded platform in the foreground until SIGINT/SIGTERM.
const port = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`ferry: ${name} must be a port number (0-65535), got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
};

const platform = await startPlatform({
  home: defaultHome(),
  apiPort: port("FERRY_API_PORT", 3000),
  routerPort: port("FERRY_ROUTER_PORT", 3001),
  domain: process.env.FERRY_DOMAIN || "localhost",
  hostname: process.env.FERRY_HOST || "127.0.0.1",
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
