import { z } from 'zod';
import { PRICE_PERIODS } from '../domain/insights';
import {
  conflictSchema,
  consumerRecordSchema,
  contactRecordSchema,
  licenseRecordSchema,
  runCountsSchema,
  runRecordSchema,
} from '../domain/records';
import { emailSchema, idSchema, nextToken } from './fields';
import { displayText } from './text';

/** The shapes of the ledger's routes: runs and their previews, licenses, consumers, contacts. */

// ---- runs and sync ----------------------------------------------------------------------------------------

export const runSchema = runRecordSchema.meta({ id: 'Run' });
export const runListSchema = z
  .object({ items: z.array(runSchema), continuationToken: nextToken })
  .meta({ id: 'RunList' });
export const syncQueuedSchema = z.object({ runId: z.string() }).meta({ id: 'SyncQueued' });

export const licenseSchema = licenseRecordSchema
  .extend({
    monthlyUnitPrice: z.number().optional().meta({ description: 'Per seat and month, rounded to cents.' }),
    currency: z.string().optional(),
    monthlyCost: z.number().optional().meta({ description: 'available x monthly unit price, rounded to cents.' }),
    price: z
      .object({
        amount: z.string(),
        currency: z.string(),
        period: z.enum(PRICE_PERIODS),
        source: z.enum(['license', 'plan']),
      })
      .optional()
      .meta({ description: "The price that applies: this license's own, else its plan's." }),
  })
  .meta({ id: 'License' });
export const licenseListSchema = z
  .object({ items: z.array(licenseSchema), continuationToken: nextToken })
  .meta({ id: 'LicenseList' });

export const consumerSchema = consumerRecordSchema
  .omit({ userFingerprint: true, contactEmail: true, contactName: true })
  .meta({ id: 'Consumer', description: "A contact linked to a license, owned by a portal's sync or made by hand." });
/** A consumer as listed: with its contact's address and name, and when the sync last saw it (sync-owned only). */
export const consumerListItemSchema = consumerSchema
  .extend({
    contact: z
      .object({ id: z.string(), email: z.string(), displayName: z.string() })
      .nullable()
      .meta({ description: 'The linked contact; null if it was deleted.' }),
    lastSeen: z
      .string()
      .datetime({ offset: true })
      .optional()
      .meta({ description: "Sync-owned: end of the portal's last successful run, which saw this assignment." }),
  })
  .meta({ id: 'ConsumerListItem' });
export const consumerListSchema = z
  .object({ items: z.array(consumerListItemSchema), continuationToken: nextToken })
  .meta({ id: 'ConsumerList' });

export const contactSchema = contactRecordSchema.meta({ id: 'Contact' });
export const contactListSchema = z.object({ items: z.array(contactSchema) }).meta({ id: 'ContactList' });

export const changePlanSchema = z
  .object({
    portalId: z.string(),
    licenses: z.object({ create: z.array(licenseSchema), update: z.array(licenseSchema) }),
    contacts: z.object({
      create: z.array(contactSchema),
      addAliases: z.array(z.object({ contactId: z.string(), addresses: z.array(z.string()) })),
    }),
    consumers: z.object({
      add: z.array(consumerSchema),
      update: z.array(
        consumerSchema
          .pick({ licenseId: true, portalId: true, skuId: true, contactId: true, assignment: true, updatedAt: true })
          .meta({ description: 'The new assignment of a sync-owned consumer.' }),
      ),
      remove: z.array(
        z
          .object({
            licenseId: z.string(),
            portalId: z.string(),
            skuId: z.string(),
            contactId: z.string(),
            objectId: z.string().optional(),
            userPrincipalName: z.string().optional(),
          })
          .meta({ description: 'A sync-owned consumer to unlink, and the account it stood for.' }),
      ),
    }),
    conflicts: z.array(conflictSchema),
    counts: runCountsSchema,
  })
  .meta({ id: 'ChangePlan', description: 'What a sync would change in the ledger.' });

export const syncPreviewSchema = z
  .object({
    runId: z.string(),
    summary: z.object({ headline: z.string(), lines: z.array(z.string()) }),
    plan: changePlanSchema,
    truncated: z.boolean().optional().meta({
      description: 'true: each list of the plan holds only its first 1,000 changes; the counts cover all of them.',
    }),
  })
  .meta({ id: 'SyncPreview', description: 'A dry run: the plan of changes, written nowhere.' });

// ---- contacts and consumers -------------------------------------------------------------------------------

export const contactCreateSchema = z
  .strictObject({
    email: emailSchema,
    displayName: displayText(z.string().trim().min(1, 'must not be empty').max(256)),
    aliases: z.array(emailSchema).max(50).optional(),
  })
  .meta({ id: 'ContactCreate' });
export type ContactCreate = z.infer<typeof contactCreateSchema>;

export const consumerLinkSchema = z.strictObject({ contactId: idSchema }).meta({ id: 'ConsumerLink' });

export type LicenseView = z.infer<typeof licenseSchema>;
