import { z } from 'zod';
import { alertRulesSchema, ALERT_RULES } from '../alerts/rules';
import { alertRecordSchema, channelRecordSchema } from '../domain/alerts';
import { idSchema, listQuery } from './schemas';

/** Shapes of the alert and notification routes (PRODUCT.md, "Alerts and notifications"). */

export const alertRulesBodySchema = alertRulesSchema.meta({
  id: 'AlertRules',
  description: 'The whole rules document: a rule or field left out takes its default; an unknown key is refused.',
});

export const alertRulesViewSchema = alertRulesSchema
  .extend({
    unavailable: z.partialRecord(z.enum(ALERT_RULES), z.string()).meta({
      description:
        'Read-only: rules whose data the app does not record yet, with the reason; they stay inactive. Not accepted by PUT.',
    }),
  })
  .meta({ id: 'AlertRulesView' });

export const alertSchema = alertRecordSchema.omit({ subject: true, updatedAt: true }).meta({ id: 'Alert' });

export const alertListSchema = z
  .object({
    items: z.array(alertSchema),
    continuationToken: z.string().optional().meta({ description: 'Pass as ?continuationToken= for the next page.' }),
  })
  .meta({ id: 'AlertList' });

const limitSchema = z
  .string()
  .regex(/^\d{1,4}$/, 'must be a number from 1 to 1000')
  .refine((value) => Number(value) >= 1 && Number(value) <= 1000, 'must be a number from 1 to 1000')
  .optional()
  .meta({ description: 'At most this many alerts (1-1000, default 100).' });

export const alertListQuery = listQuery({
  state: z.enum(['open', 'resolved', 'all']).optional().meta({ description: 'Default `open`.' }),
  portalId: idSchema.optional(),
  limit: limitSchema,
  continuationToken: z
    .string()
    .min(1)
    .max(2000)
    .optional()
    .meta({ description: "The previous response's continuationToken: the next page." }),
});

export const channelListQuery = listQuery({});

const channelName = z.string().trim().min(1, 'must not be empty').max(80, 'must be at most 80 characters');
const channelUrl = z.string().min(1).max(2048).meta({
  description: 'https only, on a public address (checked when saved and when sent). Write-only: it is a secret.',
});

export const channelCreateSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('webhook'),
      name: channelName,
      url: channelUrl,
      signingSecret: z
        .string()
        .min(16, 'must be at least 16 characters')
        .max(256)
        .optional()
        .meta({ description: 'Write-only: signs each body (X-License-Sync-Signature).' }),
    }),
    z.strictObject({ kind: z.literal('teams'), name: channelName, url: channelUrl }),
    z.strictObject({
      kind: z.literal('email'),
      name: channelName,
      to: z.array(z.email('must be an e-mail address').max(320)).min(1).max(20),
    }),
  ])
  .meta({ id: 'ChannelCreate' });

export const channelSchema = channelRecordSchema.omit({ lastErrorAt: true }).meta({
  id: 'Channel',
  description: 'A notification channel; its URL and signing secret are never shown (hasUrl, hasSigningSecret).',
});
export const channelListSchema = z.object({ items: z.array(channelSchema) }).meta({ id: 'ChannelList' });

export const channelTestResultSchema = z
  .object({
    ok: z.boolean(),
    deliveryId: z.string(),
    status: z.number().int().optional().meta({ description: "The receiver's HTTP status, when it answered." }),
    error: z.string().optional(),
  })
  .meta({ id: 'ChannelTestResult' });

export const channelParams = z.strictObject({ id: idSchema });
