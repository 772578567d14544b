import type { AlertRule, Severity } from './rules';

/** What each kind of channel receives for one alert event. */

export const ALERT_EVENTS = ['alert.raised', 'alert.resolved', 'test'] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

export interface AlertView {
  id: string;
  rule: AlertRule;
  portalId: string;
  licenseId?: string;
  state: 'open' | 'resolved';
  severity: Severity;
  message: string;
  details: Record<string, string | number | boolean>;
  raisedAt: string;
  resolvedAt?: string;
}

const RULE_TITLES: Record<AlertRule, string> = {
  lowStock: 'Low stock',
  overAssigned: 'Over-assigned license',
  expiring: 'Subscription renews or expires soon',
  assignmentErrors: 'License assignment errors',
  inactive: 'Inactive license holders',
  runFailures: 'Sync keeps failing',
  credentialExpiry: 'Credential expires soon',
  rightSize: 'Seats to cut before renewal',
  stale: 'Sync has not succeeded lately',
};

export function ruleTitle(rule: AlertRule): string {
  return RULE_TITLES[rule];
}

function headline(event: AlertEvent, alert: AlertView): string {
  const title = RULE_TITLES[alert.rule];
  if (event === 'test') return 'Test notification from m365-license-sync';
  return event === 'alert.resolved' ? `Resolved: ${title}` : `${alert.severity.toUpperCase()}: ${title}`;
}

/** A sample alert for `POST /api/notifications/channels/{id}/test`. */
export function testAlert(now: Date): AlertView {
  return {
    id: 'test',
    rule: 'lowStock',
    portalId: 'test',
    state: 'open',
    severity: 'info',
    message: 'This is a test of the notification channel; no license is affected.',
    details: {},
    raisedAt: now.toISOString(),
  };
}

/** The webhook body: `{ event, alert }`, signed as sent. */
export function webhookBody(event: AlertEvent, alert: AlertView): string {
  return JSON.stringify({ event, alert });
}

function facts(alert: AlertView): { title: string; value: string }[] {
  return [
    { title: 'Severity', value: alert.severity },
    { title: 'Rule', value: alert.rule },
    { title: 'Portal', value: alert.portalId },
    ...(alert.licenseId ? [{ title: 'License', value: alert.licenseId }] : []),
    ...Object.entries(alert.details).map(([title, value]) => ({ title, value: String(value) })),
    { title: 'Raised', value: alert.raisedAt },
    ...(alert.resolvedAt ? [{ title: 'Resolved', value: alert.resolvedAt }] : []),
  ];
}

/** A Teams Workflows webhook message carrying an Adaptive Card: title, the facts, a link to the page. */
export function teamsBody(event: AlertEvent, alert: AlertView, pageUrl: string): string {
  return JSON.stringify({
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            {
              type: 'TextBlock',
              size: 'Medium',
              weight: 'Bolder',
              wrap: true,
              text: headline(event, alert),
              color: event === 'alert.raised' && alert.severity === 'critical' ? 'Attention' : 'Default',
            },
            { type: 'TextBlock', wrap: true, text: alert.message },
            { type: 'FactSet', facts: facts(alert) },
          ],
          actions: [{ type: 'Action.OpenUrl', title: 'Open the alerts', url: `${pageUrl}/#/alerts` }],
        },
      },
    ],
  });
}

/** A plain, readable e-mail for Graph's sendMail. */
export function emailMessage(
  event: AlertEvent,
  alert: AlertView,
  to: string[],
  pageUrl: string,
): { message: Record<string, unknown>; saveToSentItems: boolean } {
  const lines = [
    alert.message,
    '',
    ...facts(alert).map((fact) => `${fact.title}: ${fact.value}`),
    '',
    `Open the alerts: ${pageUrl}/#/alerts`,
  ];
  return {
    message: {
      subject: `[m365-license-sync] ${headline(event, alert)}`,
      body: { contentType: 'Text', content: lines.join('\n') },
      toRecipients: to.map((address) => ({ emailAddress: { address } })),
    },
    saveToSentItems: false,
  };
}
