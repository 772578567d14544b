import type { PortalSnapshot } from '../domain/insights';

/**
 * History kept after each successful run: one snapshot per license per UTC day and one per portal per day (the
 * day's last run wins), kept 25 months; and the monthly billing figure a service provider bills by.
 */

export const HISTORY_RETENTION_MONTHS = 25;

export {
  licenseSnapshotSchema,
  portalSnapshotSchema,
  type LicenseSnapshot,
  type PortalSnapshot,
} from '../domain/insights';

export interface LicensedUsersMonth {
  month: string;
  peakLicensedUsers: number;
  lastLicensedUsers: number;
}

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The oldest day kept on `today`: 25 months back, on the same day of the month (or the month's last day). */
export function oldestKeptDay(today: Date): string {
  const year = today.getUTCFullYear();
  const month = today.getUTCMonth() - HISTORY_RETENTION_MONTHS;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return utcDay(new Date(Date.UTC(year, month, Math.min(today.getUTCDate(), lastDay))));
}

/** The default window of a license's history: the last 12 months up to today. */
export function defaultHistoryRange(today: Date): { from: string; to: string } {
  const from = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 12, today.getUTCDate()));
  return { from: utcDay(from), to: utcDay(today) };
}

/**
 * The billing figure of one portal for one month: the highest daily count of licensed users and the latest.
 * Undefined for a month without data.
 */
export function licensedUsersOfMonth(snapshots: PortalSnapshot[], month: string): LicensedUsersMonth | undefined {
  const days = snapshots.filter((s) => s.date.startsWith(`${month}-`)).sort((a, b) => a.date.localeCompare(b.date));
  const last = days[days.length - 1];
  if (!last) return undefined;
  return {
    month,
    peakLicensedUsers: Math.max(...days.map((d) => d.licensedUsers)),
    lastLicensedUsers: last.licensedUsers,
  };
}
