import { describe, expect, it } from "vitest";
import { parseFerryConfig } from "../../core/config/schema.ts";
import { cronScheduleProblem } from "../../core/config/cron-schedule.ts";
import { nextRun } from "../../crons/schedule.ts";

describe("cron schedules, validated as Vercel does", () => {
  it.each(["0 5 * * *", "* * * * *", "*/15 * * * *", "0 9 * * 1-5", "0 0 1 * *", "5,35 0-6/2 * 1-12/3 *", "0 0 29 2 *", "  0 5 * * *  "])("accepts %j", (s) => {
    expect(cronScheduleProblem(s)).toBeNull();
  });

  it.each([
    ["0 5 * * MON", /names such as MON/],
    ["0 5 * JAN *", /names such as MON or JAN/],
    ["@daily", /shortcuts such as @daily/],
    ["0 5 * *", /has 4 field/],
    ["0 0 5 * * *", /has 6 field/],
    ["0 5 1 * 1", /day of month and day of week cannot both be set/],
    ["60 * * * *", /minute "60": 60 is outside 0-59/],
    ["0 24 * * *", /hour "24": 24 is outside 0-23/],
    ["0 0 0 * *", /outside 1-31/],
    ["0 0 * 13 *", /outside 1-12/],
    ["0 0 * * 7", /outside 0-6/],
    ["0 0 L * *", /the letters L, W/],
    ["0 0 15W * *", /the letters L, W/],
    ["0 0 * * 5#2", /# and \? are not supported/],
    ["0 0 ? * *", /# and \? are not supported/],
    ["10-5 * * * *", /runs backwards/],
    ["*/0 * * * *", /step \/0/],
    ["5/10 * * * *", /a step needs \* or a range/],
    ["0 0 31 2 *", /never runs/],
  ])("refuses %j", (s, why) => {
    expect(cronScheduleProblem(s)).toMatch(why);
  });

  it("fails the config with invalid_config naming crons[i].schedule", () => {
    expect(parseFerryConfig({ crons: [{ path: "/api/cron", schedule: "0 5 * * *" }] }).crons).toEqual([{ path: "/api/cron", schedule: "0 5 * * *" }]);
    let err: { code?: string; message?: string; details?: { issues: { path: string }[] } } = {};
    try {
      parseFerryConfig({ crons: [{ path: "/a", schedule: "0 5 * * *" }, { path: "/b", schedule: "0 5 * * SUN" }] });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe("invalid_config");
    expect(err.message).toContain("crons[1].schedule");
    expect(err.details?.issues[0]?.path).toBe("crons[1].schedule");
  });

  it("computes the next run in UTC, strictly after the given instant", () => {
    expect(nextRun("0 5 * * *", Date.UTC(2026, 0, 1, 4, 59, 59, 999), undefined)).toBe(Date.UTC(2026, 0, 1, 5, 0));
    expect(nextRun("0 5 * * *", Date.UTC(2026, 0, 1, 5, 0), undefined)).toBe(Date.UTC(2026, 0, 2, 5, 0));
    expect(nextRun("30 23 * * 0", Date.UTC(2026, 0, 1), undefined)).toBe(Date.UTC(2026, 0, 4, 23, 30));
    // the test-only seconds field
    expect(nextRun("* * * * *", Date.UTC(2026, 0, 1, 5, 0, 0, 500), "*/2")).toBe(Date.UTC(2026, 0, 1, 5, 0, 2));
  });
});
