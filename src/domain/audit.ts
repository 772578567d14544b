/**
 * The audit trail's port: who changed what, when. Entries hold names, ids and a summary written by the caller from
 * non-secret fields; never a credential.
 */

export interface AuditPrincipal {
  /** The principal's name claim (e.g. the UPN), or "function key" / "local" where there is no person. */
  name: string;
  objectId?: string;
}

export interface AuditEntry {
  at: string;
  principal: AuditPrincipal;
  /** `<thing>.<verb>`, e.g. `portal.create`, `run.start`. */
  action: string;
  /** What was changed, e.g. `portals/<id>`. */
  target: string;
  summary: string;
}

export interface AuditPage {
  items: AuditEntry[];
  continuationToken?: string;
}

export interface AuditQuery {
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  limit: number;
  continuationToken?: string;
}

export class InvalidContinuationTokenError extends Error {
  constructor() {
    super('The continuationToken is not one this API gave out; start again without it.');
    this.name = 'InvalidContinuationTokenError';
  }
}

export interface AuditTrail {
  record(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  list(query: AuditQuery): Promise<AuditPage>;
}

export interface AuditChange {
  action: string;
  target: string;
  summary: string;
}

/** The one call a use case or controller makes after a change succeeded. */
export function recordChange(
  services: { audit: AuditTrail; now(): Date },
  principal: AuditPrincipal,
  change: AuditChange,
): Promise<void> {
  const { name, objectId } = principal;
  return services.audit.record({ at: services.now().toISOString(), principal: { name, objectId }, ...change });
}
