import type { LicenseSnapshot, PortalSnapshot } from '../../domain/insights';
import { utcDay } from '../../insights/history';
import { skuIdOf } from './ids';

/**
 * The demo tenant's past year: one snapshot a week before today, so the license page's 12-month chart and the
 * licensed-users report show a trend the moment `npm start` opens the page (today's snapshot is the first run's
 * own). Only the local host writes these, for the demo portal; a real portal's history starts with its first run.
 * The figures grow towards the demo tenant's plans as they are today (see addDemoTenant).
 */

interface Trend {
  sku: string;
  /** Seats and seats in use a year ago, and in the week before today. */
  available: [number, number];
  consumed: [number, number];
  /** Weeks ago the plan was first bought (absent: a year or more). */
  since?: number;
}

const TRENDS: Trend[] = [
  { sku: 'ENTERPRISEPACK', available: [8, 12], consumed: [7, 12] },
  { sku: 'SPB', available: [4, 8], consumed: [3, 5] },
  { sku: 'STANDARDPACK', available: [5, 8], consumed: [3, 7] },
  { sku: 'VISIOCLIENT', available: [8, 5], consumed: [3, 0] },
  // The trial began a month ago.
  { sku: 'POWER_BI_PRO', available: [10, 10], consumed: [2, 6], since: 4 },
];

const WEEK_MS = 7 * 86_400_000;

export interface DemoDay {
  licenses: (LicenseSnapshot & { skuId: string })[];
  portal: PortalSnapshot;
}

export function demoHistory(today: Date, weeks = 52): DemoDay[] {
  const days: DemoDay[] = [];
  for (let ago = weeks; ago >= 1; ago -= 1) {
    const date = utcDay(new Date(today.getTime() - ago * WEEK_MS));
    // 0 a year ago, 1 in the week before today.
    const progress = (weeks - ago) / (weeks - 1);
    const along = ([from, to]: [number, number]) => Math.round(from + (to - from) * progress);
    const licenses = TRENDS.filter((trend) => trend.since === undefined || ago <= trend.since).map((trend) => {
      const consumedUnits = along(trend.consumed);
      return {
        skuId: skuIdOf(trend.sku),
        date,
        available: along(trend.available),
        consumedUnits,
        assigned: consumedUnits,
        warning: 0,
        suspended: 0,
      };
    });
    days.push({ licenses, portal: { date, licensedUsers: along([17, 24]) } });
  }
  return days;
}
