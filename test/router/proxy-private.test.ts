import { describe, expect, it } from "vitest";
import { proxyExternal, DEFAULT_PROXY } from "../../router/proxy.ts";
import { isNonPublicAddress } from "../../core/net/public-address.ts";

describe("external rewrites reach only public addresses", () => {
  it("classifies addresses", () => {
    for (const a of ["127.0.0.1", "10.1.2.3", "169.254.169.254", "192.168.0.1", "172.16.5.5", "0.0.0.0", "::1", "::", "[::1]", "::ffff:127.0.0.1", "fd00::1", "fe80::1"]) expect(isNonPublicAddress(a), a).toBe(true);
    for (const a of ["93.184.216.34", "8.8.8.8", "2606:4700::1111"]) expect(isNonPublicAddress(a), a).toBe(false);
  });
  it("refuses a loopback destination, by address or by name", async () => {
    for (const target of ["http://127.0.0.1:1/x", "http://[::1]:1/x", "http://localhost:1/x"]) {
      const r = await proxyExternal(new Request("http://app.localhost/x"), target, undefined, {}, DEFAULT_PROXY);
      expect(r, target).toEqual({ ok: false, status: 502, code: "external_rewrite_failed" });
    }
  });
});
