import { z } from 'zod';

/**
 * The alert rules, one document. PUT replaces it whole: a rule (or a field of a rule) left out takes its
 * default, an unknown key is refused.
 */

export const ALERT_RULES = [
  'lowStock',
  'overAssigned',
  'expiring',
  'assignmentErrors',
  'inactive',
  'runFailures',
  'credentialExpiry',
  'rightSize',
] as const;
export type AlertRule = (typeof ALERT_RULES)[number];
export const alertRuleSchema = z.enum(ALERT_RULES);

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const RULE_SEVERITY: Record<AlertRule, Severity> = {
  overAssigned: 'critical',
  assignmentErrors: 'critical',
  runFailures: 'critical',
  lowStock: 'warning',
  expiring: 'warning',
  credentialExpiry: 'warning',
  rightSize: 'warning',
  inactive: 'info',
};

const enabled = (on: boolean) => z.boolean().default(on);
const days = (value: number) => z.number().int().min(1).max(365).default(value);
const ids = z.array(z.string().min(1).max(200)).max(1000).default([]);

export const alertRulesSchema = z.strictObject({
  lowStock: z
    .strictObject({
      enabled: enabled(true),
      minFree: z.number().int().min(0).max(1_000_000).default(2),
      minFreePercent: z.number().min(0).max(100).default(5),
    })
    .default({ enabled: true, minFree: 2, minFreePercent: 5 }),
  overAssigned: z.strictObject({ enabled: enabled(true) }).default({ enabled: true }),
  expiring: z.strictObject({ enabled: enabled(true), days: days(30) }).default({ enabled: true, days: 30 }),
  assignmentErrors: z.strictObject({ enabled: enabled(true) }).default({ enabled: true }),
  inactive: z
    .strictObject({ enabled: enabled(false), minCount: z.number().int().min(1).max(1_000_000).default(1) })
    .default({ enabled: false, minCount: 1 }),
  runFailures: z
    .strictObject({ enabled: enabled(true), consecutive: z.number().int().min(1).max(100).default(3) })
    .default({ enabled: true, consecutive: 3 }),
  credentialExpiry: z.strictObject({ enabled: enabled(true), days: days(30) }).default({ enabled: true, days: 30 }),
  rightSize: z.strictObject({ enabled: enabled(true), days: days(45) }).default({ enabled: true, days: 45 }),
  exclude: z
    .strictObject({ portalIds: ids, licenseIds: ids, skuIds: ids })
    .default({ portalIds: [], licenseIds: [], skuIds: [] }),
});
export type AlertRules = z.output<typeof alertRulesSchema>;
export type AlertRulesInput = z.input<typeof alertRulesSchema>;

export function defaultAlertRules(): AlertRules {
  return alertRulesSchema.parse({});
}

/** Whether the exclusions cover a subject (a portal, or a license with its plan). */
export function isExcluded(
  rules: Pick<AlertRules, 'exclude'>,
  subject: { portalId?: string; licenseId?: string; skuId?: string },
): boolean {
  const { portalIds, licenseIds, skuIds } = rules.exclude;
  const has = (list: string[], value: string | undefined) =>
    value !== undefined && list.some((item) => item.toLowerCase() === value.toLowerCase());
  return has(portalIds, subject.portalId) || has(licenseIds, subject.licenseId) || has(skuIds, subject.skuId);
}
