/** The rules document lives with the domain's shapes (the ledger stores it); the alerts layer re-exports it. */
export * from '../domain/alertRules';
