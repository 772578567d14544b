import '../src/telemetry/worker';
// The composition root registers how the services are made (in Azure nothing else does before a request).
import '../src/app/compose';
import { createContactController, findContactsController } from '../src/api/controllers';
import { createContactEndpoint, findContactsEndpoint } from '../src/api/endpoints';
import { defineApiRoute } from '../src/api/http';

/** Contacts: find by any address, create by hand. */
export const contactsFind = defineApiRoute(findContactsEndpoint, findContactsController);
export const contactsCreate = defineApiRoute(createContactEndpoint, createContactController);
