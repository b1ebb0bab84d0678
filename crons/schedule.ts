import { Cron } from "croner";

/**
 * Test-only: FERRY_TEST_CRON_SECONDS is a seconds field put in front of every schedule, so
 * `* * * * *` with `*\/2` runs every two seconds and an end-to-end test need not wait for whole
 * minutes. Schedules are still validated as five fields at deploy time. Unset in production.
 */
export const testSecondsField = (env: NodeJS.ProcessEnv = process.env): string | undefined => env.FERRY_TEST_CRON_SECONDS || undefined;

const cache = new Map<string, Cron>();

/** The first run of `schedule` (UTC) strictly after `after`, or null when there is none. */
export function nextRun(schedule: string, after: number, secondsField: string | undefined = testSecondsField()): number | null {
  const pattern = secondsField ? `${secondsField} ${schedule.trim()}` : schedule.trim();
  let cron = cache.get(pattern);
  if (!cron) {
    cron = new Cron(pattern, { timezone: "UTC", mode: secondsField ? "6-part" : "5-part" });
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, cron);
  }
  return cron.nextRun(new Date(after))?.getTime() ?? null;
}
