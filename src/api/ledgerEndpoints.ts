import { defineEndpoint } from './endpoint';
import { defineListEndpoint } from './lists';
import { bad, conflict, notFound } from './responses';
import {
  consumerLinkSchema,
  consumerListItemSchema,
  consumerListQuery,
  consumerListSchema,
  consumerParams,
  consumerSchema,
  contactCreateSchema,
  contactFindQuery,
  contactListSchema,
  contactSchema,
  emptyQuery,
  licenseListQuery,
  licenseListSchema,
  licenseParams,
  licenseSchema,
  noParams,
} from './schemas';

/** The routes of the ledger: licenses, their consumers, and contacts (PRODUCT.md, "HTTP API"). */

export const listLicensesEndpoint = defineListEndpoint({
  name: 'licensesList',
  method: 'GET',
  route: 'api/licenses',
  role: 'Reader',
  tag: 'licenses',
  summary: 'Licenses with their counts',
  description: 'By name, a page at a time (`limit`, `continuationToken`).',
  params: noParams,
  query: licenseListQuery,
  body: undefined,
  list: { file: 'licenses', item: licenseSchema },
  responses: { 200: { description: 'The licenses, by name.', schema: licenseListSchema }, 400: bad() },
});

export const getLicenseEndpoint = defineEndpoint({
  name: 'licensesGet',
  method: 'GET',
  route: 'api/licenses/{id}',
  role: 'Reader',
  tag: 'licenses',
  summary: 'One license',
  params: licenseParams,
  query: emptyQuery,
  body: undefined,
  responses: { 200: { description: 'The license.', schema: licenseSchema }, 400: bad(), 404: notFound('The license') },
});

export const listConsumersEndpoint = defineListEndpoint({
  name: 'consumersList',
  method: 'GET',
  route: 'api/licenses/{id}/consumers',
  role: 'Reader',
  tag: 'licenses',
  summary: 'Consumers of a license',
  description:
    "A page at a time (`limit`, default 100, at most 1,000; follow `continuationToken` until it is absent), each with its contact's primary address and name.",
  params: licenseParams,
  query: consumerListQuery,
  body: undefined,
  list: { file: 'consumers', item: consumerListItemSchema },
  responses: {
    200: { description: 'The consumers, sync-owned and hand-made.', schema: consumerListSchema },
    400: bad(),
    404: notFound('The license'),
  },
});

export const linkConsumerEndpoint = defineEndpoint({
  name: 'consumersLink',
  method: 'POST',
  route: 'api/licenses/{id}/consumers',
  role: 'Admin',
  tag: 'licenses',
  summary: 'Link a contact to a license by hand',
  params: licenseParams,
  query: emptyQuery,
  body: consumerLinkSchema,
  responses: {
    201: { description: 'Linked.', schema: consumerSchema },
    400: bad(),
    404: notFound('The license or the contact'),
    409: conflict('The contact is already linked to the license.'),
  },
});

export const unlinkConsumerEndpoint = defineEndpoint({
  name: 'consumersUnlink',
  method: 'DELETE',
  route: 'api/licenses/{id}/consumers/{contactId}',
  role: 'Admin',
  tag: 'licenses',
  summary: 'Unlink a hand-made consumer',
  params: consumerParams,
  query: emptyQuery,
  body: undefined,
  responses: {
    204: { description: 'Unlinked.' },
    400: bad(),
    404: notFound('The license or the link'),
    409: conflict('The link belongs to the sync of the portal access; it goes when the user loses the license.'),
  },
});

export const findContactsEndpoint = defineListEndpoint({
  name: 'contactsFind',
  method: 'GET',
  route: 'api/contacts',
  role: 'Reader',
  tag: 'contacts',
  summary: 'Find the contact holding an address',
  description: 'Primary address or alias, case-insensitive. The list is empty when no contact holds it.',
  params: noParams,
  query: contactFindQuery,
  body: undefined,
  list: { file: 'contacts', item: contactSchema },
  responses: {
    200: { description: 'The contact holding the address, if any.', schema: contactListSchema },
    400: bad(),
  },
});

export const createContactEndpoint = defineEndpoint({
  name: 'contactsCreate',
  method: 'POST',
  route: 'api/contacts',
  role: 'Admin',
  tag: 'contacts',
  summary: 'Create a contact by hand',
  params: noParams,
  query: emptyQuery,
  body: contactCreateSchema,
  responses: {
    201: { description: 'Created.', schema: contactSchema },
    400: bad(),
    409: conflict('One of the addresses already belongs to another contact.'),
  },
});
