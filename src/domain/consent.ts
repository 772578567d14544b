import type { AuditPrincipal } from './audit';
import type { Cloud } from './records';

/**
 * The port of "Connect a tenant" consent states: random, single use, kept at most an hour. Only a hash of a state
 * is stored (whoever reads the store cannot answer a consent with it), with what the request asked for and who
 * started it (the audit trail names them when the callback creates the portal access).
 */

export const CONSENT_STATE_TTL_MS = 60 * 60_000;

export interface ConsentRequest {
  name: string;
  cloud: Cloud;
  /** The admin who started the connect. */
  startedBy: AuditPrincipal;
}

export interface PendingConsent extends ConsentRequest {
  createdAt: string;
  expiresAt: string;
  usedAt?: string;
}

/** Why a state cannot be used; each answers the callback with a 400 page. */
export type StateProblem = 'missing' | 'unknown' | 'expired' | 'replayed';

export class ConsentStateError extends Error {
  constructor(readonly problem: StateProblem) {
    super(`The consent state is ${problem}.`);
    this.name = 'ConsentStateError';
  }
}

export interface ConsentStateStore {
  /** A new state for `request`, valid for CONSENT_STATE_TTL_MS; expired states are removed on the way. */
  create(request: ConsentRequest, now: Date): Promise<{ state: string; expiresAt: string }>;
  /**
   * Uses a state once (of two callbacks racing with one state only one wins) and answers what it was made for.
   * Throws ConsentStateError when it cannot be used.
   */
  take(state: string | null, now: Date): Promise<PendingConsent>;
}
