import { Cron } from "croner";

/**
 * vercel.json `crons[].schedule`, validated as Vercel does: five fields (minute hour
 * day-of-month month day-of-week), always UTC, numbers with `*`, `,`, `-` and `/` only. Vercel
 * refuses named days and months (MON, JAN), the `@daily`-style shortcuts, Quartz's `L`, `W`,
 * `#` and `?`, and a schedule that restricts both day of month and day of week (one of them must
 * be `*`), so Ferry refuses them too: a schedule that deploys here deploys there.
 */
const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 6 },
] as const;

const ITEM = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/;

/** What is wrong with a schedule, or null when Vercel (and Ferry) accept it. */
export function cronScheduleProblem(schedule: string): string | null {
  const text = schedule.trim();
  if (text.startsWith("@")) return `${JSON.stringify(schedule)}: shortcuts such as @daily are not supported; write the five fields (minute hour day-of-month month day-of-week)`;
  const fields = text.split(/\s+/);
  if (fields.length !== 5) return `${JSON.stringify(schedule)} has ${fields.length} field(s); a schedule has five: minute hour day-of-month month day-of-week (UTC)`;
  for (let i = 0; i < 5; i++) {
    const problem = fieldProblem(fields[i]!, FIELDS[i]!);
    if (problem) return `${JSON.stringify(schedule)}: ${FIELDS[i]!.name} ${JSON.stringify(fields[i])}: ${problem}`;
  }
  if (fields[2] !== "*" && fields[4] !== "*") return `${JSON.stringify(schedule)}: day of month and day of week cannot both be set; one of them must be *`;
  try {
    if (!new Cron(text, { timezone: "UTC", mode: "5-part" }).nextRun()) return `${JSON.stringify(schedule)} never runs`;
  } catch (e) {
    return `${JSON.stringify(schedule)}: ${(e as Error).message}`;
  }
  return null;
}

function fieldProblem(field: string, range: (typeof FIELDS)[number]): string | null {
  if (/[A-Za-z]/.test(field)) return `use numbers (${range.min}-${range.max}); names such as MON or JAN and the letters L, W are not supported`;
  for (const item of field.split(",")) {
    const m = ITEM.exec(item);
    if (!m) return item.includes("#") || item.includes("?") ? "# and ? are not supported" : `${JSON.stringify(item)} is not a number, a range a-b, * or a step (*/n, a-b/n)`;
    const [, , from, to, step] = m;
    for (const v of [from, to]) {
      if (v !== undefined && (Number(v) < range.min || Number(v) > range.max)) return `${v} is outside ${range.min}-${range.max}`;
    }
    if (from !== undefined && to !== undefined && Number(from) > Number(to)) return `the range ${from}-${to} runs backwards`;
    if (step !== undefined && (Number(step) < 1 || Number(step) > range.max)) return `the step /${step} must be 1-${range.max}`;
    if (step !== undefined && from !== undefined && to === undefined) return `${JSON.stringify(item)}: a step needs * or a range before it (*/n, a-b/n)`;
  }
  return null;
}
