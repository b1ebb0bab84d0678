import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { LookupAddress } from "node:dns";
import type { BuildResult } from "../../core/types.ts";
import { apiHarness } from "../helpers/api.ts";
import { until } from "../helpers/until.ts";

const success: BuildResult = { type: "success", output: { version: 1, functions: [], static: [], routes: {} } };

const NON_PUBLIC = ["http://127.0.0.1:3000/x", "http://[::1]:3000/x", "http://169.254.169.254/latest/meta-data/", "http://localhost:3000/x", "http://app.localhost/x", "http://10.0.0.5/x", "http://192.168.1.1/x", "http://[::ffff:127.0.0.1]/x", "http://2130706433/x"];

/** A receiver on loopback that records what reaches it. */
async function receiver() {
  const got: IncomingMessage["headers"][] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      got.push(req.headers);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { port, got, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

/** DNS for names under example.test, answered by the test (the machine has no DNS of its own to rely on). */
function fakeDns(names: Record<string, LookupAddress[]>) {
  const asked: string[] = [];
  const resolve = async (hostname: string) => {
    asked.push(hostname);
    const a = names[hostname];
    if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return a;
  };
  return { resolve, asked };
}


describe("requests made for tenants reach only public addresses", () => {
  let h: Awaited<ReturnType<typeof apiHarness>>;
  let rx: Awaited<ReturnType<typeof receiver>>;
  // filled per test: which addresses each example.test name has
  const table: Record<string, LookupAddress[]> = {};
  const dns = fakeDns(table);
  beforeAll(async () => {
    rx = await receiver();
    h = await apiHarness(async () => success, undefined, undefined, { resolve: dns.resolve });
  });
  afterAll(async () => {
    h.api.services.webhooks.stop();
    await rx.close();
    await h.end();
  });

  const deliveries = async (id: string) => (await (await h.call("GET", `/v1/webhooks/${id}/deliveries`)).json()).deliveries as any[];

  it("refuses a webhook whose host is a non-public address or localhost, at once, and stores nothing", async () => {
    for (const url of NON_PUBLIC) {
      const r = await h.call("POST", "/v1/webhooks", { json: { url, events: ["deployment.created"] } });
      expect(r.status, url).toBe(400);
      const { error } = await r.json();
      expect(error, url).toMatchObject({ code: "non_public_address", field: "url" });
      expect(error.message, url).toMatch(/^url: webhook URL .* is refused: its host .* (is a loopback, private, link-local or reserved address|is localhost) \(webhooks are sent to public addresses only\)$/);
    }
    expect((await (await h.call("GET", "/v1/webhooks")).json()).webhooks).toEqual([]);
  });

  it("accepts a public address or a name at registration (nothing is sent here)", async () => {
    // account B has no deployments, so nothing is ever delivered to these
    for (const url of ["https://93.184.216.34/hook", "https://hooks.example.com/ferry", "http://[2606:4700::1111]/x"]) {
      const r = await h.call("POST", "/v1/webhooks", { token: h.tokenB, json: { url, events: ["deployment.created"] } });
      expect(r.status, url).toBe(201);
      expect((await h.call("DELETE", `/v1/webhooks/${(await r.json()).id}`, { token: h.tokenB })).status).toBe(200);
    }
  });

  it("refuses a delivery to a name that resolves to a non-public address: failed at once, with the reason, nothing sent", async () => {
    table["rebind.example.test"] = [{ address: "127.0.0.1", family: 4 }];
    // any one non-public address is enough
    table["mixed.example.test"] = [{ address: "93.184.216.34", family: 4 }, { address: "::1", family: 6 }];
    const hooks = [];
    for (const name of ["rebind.example.test", "mixed.example.test"]) {
      const r = await h.call("POST", "/v1/webhooks", { json: { url: `http://${name}:${rx.port}/hook`, events: ["deployment.created"] } });
      expect(r.status).toBe(201);
      hooks.push({ name, ...(await r.json()) });
    }
    // one stored before its host was refused at registration is refused when delivered
    const secretCipher = await h.encryptor.encrypt("whsec_old");
    await h.metadata.putWebhook({ id: "wh_oldloopback", accountId: "acc_a", url: `http://127.0.0.1:${rx.port}/hook`, events: ["deployment.created"], secretCipher, createdAt: Date.now() });

    dns.asked.length = 0;
    const files = await h.upload({ "index.html": "refused" });
    await h.call("POST", "/v1/deployments", { json: { name: "refused", files } });
    for (const { id, name } of hooks) {
      const [d] = await until(`the refused delivery to ${name}`, async () => {
        const l = await deliveries(id);
        return l[0]?.state === "failed" ? l : undefined;
      });
      expect(d.attempts).toHaveLength(1);
      expect(d.attempts[0].error).toMatch(new RegExp(`^refused: ${name.replace(/\./g, "\\.")} resolves to the non-public address (127\\.0\\.0\\.1|::1) \\(webhooks are sent to public addresses only\\)$`));
      expect(d.nextAttemptAt).toBeUndefined();
    }
    const [old] = await until("the refused delivery of the old webhook", async () => {
      const l = await deliveries("wh_oldloopback");
      return l[0]?.state === "failed" ? l : undefined;
    });
    expect(old.attempts[0].error).toMatch(/^refused: its host 127\.0\.0\.1 is a loopback, private, link-local or reserved address/);
    expect(rx.got).toEqual([]);
    // one lookup per connection, the one checked: nothing left for a second answer to change
    expect(dns.asked.sort()).toEqual(["mixed.example.test", "rebind.example.test"]);
    await h.metadata.deleteWebhook("acc_a", "wh_oldloopback");
    for (const { id } of hooks) await h.call("DELETE", `/v1/webhooks/${id}`);
  });

  it("refuses linking a repository whose host is a non-public address or localhost, and changes nothing", async () => {
    for (const linkedUrl of ["http://127.0.0.1/r.git", "git://[::1]/r.git", "http://169.254.169.254/r.git", "https://localhost/r.git", "http://10.1.2.3/r.git"]) {
      const r = await h.call("PUT", "/v1/projects/linkme/git", { json: { linkedUrl } });
      expect(r.status, linkedUrl).toBe(400);
      const { error } = await r.json();
      expect(error, linkedUrl).toMatchObject({ code: "non_public_address", field: "linkedUrl" });
      expect(error.message).toMatch(/^linkedUrl: repository URL .* is refused: its host .* \(linked repositories are fetched from public addresses only\)$/);
    }
    expect((await h.call("GET", "/v1/projects/linkme/git")).status).toBe(404);
    const ok = await h.call("PUT", "/v1/projects/linkme/git", { json: { linkedUrl: "https://git.example.com/acme/site.git" } });
    expect(ok.status).toBe(200);
    expect((await ok.json()).linkedUrl).toBe("https://git.example.com/acme/site.git");
    // a refused relink leaves the link as it was
    expect((await h.call("PUT", "/v1/projects/linkme/git", { json: { linkedUrl: "http://127.0.0.1:3000/r.git" } })).status).toBe(400);
    expect((await (await h.call("GET", "/v1/projects/linkme/git")).json()).linkedUrl).toBe("https://git.example.com/acme/site.git");
  });
});

describe("the operator's opt-out (FERRY_ALLOW_PRIVATE_WEBHOOKS) lets webhooks reach loopback", () => {
  let h: Awaited<ReturnType<typeof apiHarness>>;
  let rx: Awaited<ReturnType<typeof receiver>>;
  const dns = fakeDns({ "hooks.example.test": [{ address: "127.0.0.1", family: 4 }] });
  beforeAll(async () => {
    rx = await receiver();
    h = await apiHarness(async () => success, undefined, undefined, { allowPrivateWebhooks: true, resolve: dns.resolve });
  });
  afterAll(async () => {
    h.api.services.webhooks.stop();
    await rx.close();
    await h.end();
  });

  it("accepts and delivers to a loopback address and to a name that resolves to one", async () => {
    const ids = [];
    for (const url of [`http://127.0.0.1:${rx.port}/hook`, `http://hooks.example.test:${rx.port}/hook`]) {
      const r = await h.call("POST", "/v1/webhooks", { json: { url, events: ["deployment.created"] } });
      expect(r.status, url).toBe(201);
      ids.push((await r.json()).id);
    }
    await h.call("POST", "/v1/deployments", { json: { name: "allowed", files: await h.upload({ "index.html": "allowed" }) } });
    for (const id of ids) {
      await until("a delivered delivery", async () => {
        const l = (await (await h.call("GET", `/v1/webhooks/${id}/deliveries`)).json()).deliveries as any[];
        return l[0]?.state === "delivered" ? l : undefined;
      });
    }
    // the name reached the receiver through the given resolver's address (no system DNS knows it)
    expect(rx.got.map((g) => g.host).sort()).toEqual([`127.0.0.1:${rx.port}`, `hooks.example.test:${rx.port}`]);
    expect(dns.asked).toEqual(["hooks.example.test"]);
  });
});
