import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendGraphError, type IssuedToken } from './http';
import type { SentMail, SimTenant } from './tenant';

/**
 * The simulated `POST /users/{id | userPrincipalName}/sendMail`: 202 with no body, as Graph answers; the mail is
 * kept on the tenant for tests to read. Needs the application permission Mail.Send.
 */

const SEND_MAIL = ['Mail.Send'];

export function isSendMail(segments: string[]): boolean {
  return segments.length === 4 && segments[1] === 'users' && segments[3]!.toLowerCase() === 'sendmail';
}

export async function handleSendMail(
  req: IncomingMessage,
  res: ServerResponse,
  segments: string[],
  token: IssuedToken,
  tenant: SimTenant,
): Promise<void> {
  if (req.method !== 'POST')
    return sendGraphError(req, res, 405, 'Request_BadRequest', 'The HTTP method is not allowed for this resource.');
  if (!token.delegated && !token.roles.some((role) => SEND_MAIL.includes(role)))
    return sendGraphError(req, res, 403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
  const from = decodeURIComponent(segments[2]!);
  if (!tenant.hasMailbox(from))
    return sendGraphError(req, res, 404, 'ErrorInvalidUser', `The requested user '${from}' is invalid.`);
  let body: SentMail;
  try {
    body = { from, ...(JSON.parse(await readBody(req)) as Omit<SentMail, 'from'>) };
  } catch {
    return sendGraphError(req, res, 400, 'ErrorInvalidRequest', 'Cannot read the request body.');
  }
  const recipients = (body.message?.toRecipients ?? []).filter((r) => r.emailAddress?.address);
  if (recipients.length === 0)
    return sendGraphError(req, res, 400, 'ErrorInvalidRecipients', 'At least one recipient is not valid.');
  tenant.sentMail.push(body);
  res.writeHead(202, { 'Content-Length': '0' });
  res.end();
}
