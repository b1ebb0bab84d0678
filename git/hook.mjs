// The pre-receive hook of every Ferry repository (plain JavaScript: it starts with node alone).
// It runs inside git receive-pack, under git http-backend, so it holds no platform credentials:
// only the one-time capability of this push (FERRY_HOOK_TOKEN) for the platform's private hook
// socket (FERRY_HOOK_SOCKET). It hands the ref updates over, prints what the platform says
// (git relays it to the pusher as `remote:` lines) and exits non-zero, rejecting the push, unless
// the platform accepted every update.
import { request } from "node:http";

const socketPath = process.env.FERRY_HOOK_SOCKET;
const token = process.env.FERRY_HOOK_TOKEN;
if (!socketPath || !token) {
  console.log("This repository takes pushes through the Ferry API only.");
  process.exit(1);
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const updates = input
  .split("\n")
  .filter(Boolean)
  .map((line) => {
    const [oldSha, newSha, ref] = line.split(" ");
    return { oldSha, newSha, ref };
  });
const body = JSON.stringify({ updates, quarantine: process.env.GIT_QUARANTINE_PATH ?? null });

const ok = await new Promise((resolve) => {
  const req = request(
    { socketPath, path: "/pre-receive", method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
    (res) => {
      let pending = "";
      let verdict = false;
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        pending += chunk;
        let nl;
        while ((nl = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          let msg;
          try {
            msg = JSON.parse(line);
          } catch {
            continue;
          }
          if (typeof msg.line === "string") process.stdout.write(msg.line + "\n");
          if (typeof msg.ok === "boolean") verdict = msg.ok;
        }
      });
      res.on("end", () => resolve(res.statusCode === 200 && verdict));
      res.on("error", () => resolve(false));
    },
  );
  req.on("error", (e) => {
    console.log(`Lost contact with the platform (${e.message}); nothing was deployed.`);
    resolve(false);
  });
  req.end(body);
});
process.exitCode = ok ? 0 : 1;
