import '../src/telemetry/worker';
import { appServices } from '../src/app/compose';
import { createContactController, findContactsController } from '../src/api/controllers';
import { createContactEndpoint, findContactsEndpoint } from '../src/api/endpoints';
import { defineApiRoute } from '../src/api/http';

/** Contacts: find by any address, create by hand. */
export const contactsFind = defineApiRoute(findContactsEndpoint, findContactsController, appServices);
export const contactsCreate = defineApiRoute(createContactEndpoint, createContactController, appServices);
