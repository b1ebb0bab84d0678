import { describe, expect, it } from "vitest";
import { assertNamePrefix, bucketName, envPrefix, tableName, type StoreIdentity } from "../../stores/names.ts";

const id = (over: Partial<StoreIdentity> = {}): StoreIdentity => ({
  accountId: "acc_k2j4h5g6f7d8",
  project: "todo",
  environment: "production",
  name: "todos",
  ...over,
});

/** S3's bucket naming rules, checked independently of how names are built. */
function assertValidBucket(name: string) {
  expect(name.length).toBeGreaterThanOrEqual(3);
  expect(name.length).toBeLessThanOrEqual(63);
  expect(name).toMatch(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/);
  expect(name).not.toMatch(/\.\./);
  expect(name).not.toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  expect(name).not.toMatch(/^xn--|^sthree-|-s3alias$|--ol-s3$/);
}

function assertValidTable(name: string) {
  expect(name.length).toBeGreaterThanOrEqual(3);
  expect(name.length).toBeLessThanOrEqual(255);
  expect(name).toMatch(/^[a-zA-Z0-9_.-]+$/);
}

describe("store resource names", () => {
  it("are readable, prefixed and deterministic", () => {
    const t = tableName(id());
    expect(t).toMatch(/^ferry-acc-k2j4h5g6f7d8-todo-prod-todos-[0-9a-f]{8}$/);
    expect(tableName(id())).toBe(t);
    expect(bucketName(id())).toMatch(/^ferry-acc-k2j4h5g6f7d8-todo-prod-todos-[0-9a-f]{8}$/);
    expect(bucketName(id({ environment: "preview" }))).toMatch(/-todo-preview-todos-[0-9a-f]{8}$/);
  });

  it("differ for every part of the identity", () => {
    const variants = [
      id(),
      id({ accountId: "acc_other" }),
      id({ project: "todo2" }),
      id({ environment: "preview" }),
      id({ name: "todos2" }),
      // same readable form after normalization or with `-` moving between parts
      id({ accountId: "ACC-k2j4h5g6f7d8" }),
      id({ project: "todo-prod-x", name: "y" }),
      id({ project: "todo", name: "x-prod-y" }),
    ];
    for (const make of [tableName, bucketName]) {
      const names = variants.map((v) => make(v));
      expect(new Set(names).size).toBe(variants.length);
    }
  });

  it("truncate long inputs, keep every part visible and stay unique", () => {
    const longProject = "p".repeat(48);
    const a = id({ project: longProject, name: "s".repeat(40) });
    const b = id({ project: longProject, name: "s".repeat(39) + "t" });
    const bucketA = bucketName(a);
    const bucketB = bucketName(b);
    assertValidBucket(bucketA);
    assertValidBucket(bucketB);
    expect(bucketA).toHaveLength(63);
    expect(bucketA).not.toBe(bucketB);
    expect(bucketA).toContain("-prod-");
    expect(bucketA).toMatch(/-s+-[0-9a-f]{8}$/);
    // tables have room for everything
    expect(tableName(a)).toContain(longProject);
  });

  it("stay valid for awkward account ids and prefixes", () => {
    const awkward = [
      id({ accountId: "" }),
      id({ accountId: "___" }),
      id({ accountId: "Acc.With.Dots..And UPPER" }),
      id({ accountId: "192.168.0.1" }),
      id({ accountId: "x".repeat(300), project: "a-".repeat(24) + "b", name: "c-".repeat(19) + "dd" }),
    ];
    for (const v of awkward) {
      assertValidBucket(bucketName(v));
      assertValidTable(tableName(v));
      assertValidBucket(bucketName(v, "acme-ferry"));
      expect(bucketName(v)).not.toMatch(/--/);
    }
    expect(tableName(id({ accountId: "x".repeat(300) })).length).toBeLessThanOrEqual(255);
  });

  it("reject prefixes that would make invalid names", () => {
    for (const bad of ["", "F", "-ferry", "ferry-", "fe--rry", "xn-ferry", "sthree-x", "a".repeat(17), "fe.rry"]) {
      expect(() => assertNamePrefix(bad)).toThrow(/invalid store name prefix/);
    }
    expect(() => assertNamePrefix("acme-ferry")).not.toThrow();
  });
});

describe("envPrefix", () => {
  it("maps store names to variable prefixes", () => {
    expect(envPrefix("todos")).toBe("FERRY_STORE_TODOS");
    expect(envPrefix("my-files")).toBe("FERRY_STORE_MY_FILES");
    expect(envPrefix("a1-b2-c3")).toBe("FERRY_STORE_A1_B2_C3");
  });
});
