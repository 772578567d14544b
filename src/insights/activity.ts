/**
 * Sign-in activity of a license holder, from Graph's signInActivity: when the person last signed in, and whether
 * that makes them inactive for a portal's `inactiveDays`.
 */

/** Graph writes this where a kind of sign-in never happened. */
export const NO_SIGN_IN = '0001-01-01T00:00:00Z';
const DAY_MS = 86_400_000;

export const INACTIVE_DAYS = { min: 7, max: 365, default: 90 } as const;

export interface SignInActivity {
  lastSignInDateTime?: string | null;
  lastNonInteractiveSignInDateTime?: string | null;
  lastSuccessfulSignInDateTime?: string | null;
}

function real(at: string | null | undefined): number | undefined {
  if (!at || at.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The user's last successful sign-in; else the newer of the last interactive and non-interactive sign-in; none
 * when Graph reports none (null activity, or only 0001-01-01).
 */
export function lastSignInAt(activity: SignInActivity | null | undefined): string | undefined {
  if (!activity) return undefined;
  const successful = real(activity.lastSuccessfulSignInDateTime);
  if (successful !== undefined) return new Date(successful).toISOString();
  const newer = Math.max(
    real(activity.lastSignInDateTime) ?? Number.NEGATIVE_INFINITY,
    real(activity.lastNonInteractiveSignInDateTime) ?? Number.NEGATIVE_INFINITY,
  );
  return Number.isFinite(newer) ? new Date(newer).toISOString() : undefined;
}

/**
 * Inactive: no sign-in for `inactiveDays`, or never signed in and created longer ago than that. A user whose
 * creation date is unknown and who never signed in counts as inactive: nothing shows they ever used the seat.
 */
export function isInactive(
  holder: { lastSignInAt?: string; createdAt?: string },
  inactiveDays: number,
  now: Date,
): boolean {
  const cutoff = now.getTime() - inactiveDays * DAY_MS;
  const signedIn = real(holder.lastSignInAt);
  if (signedIn !== undefined) return signedIn < cutoff;
  const created = real(holder.createdAt);
  return created === undefined || created < cutoff;
}
