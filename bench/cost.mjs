// Azure cost of one tenant per month at the hourly schedule, from the figures the benchmark measured.
//
// List prices (USD, pay as you go) and where they come from. Taken 2026-11-29; check the pricing pages before
// relying on them: Azure changes prices by region and over time.
export const PRICES = {
  taken: '2026-11-29',
  // Azure Functions Flex Consumption, on demand: per GB-second of instance memory while executing, and per
  // million executions (free grants per subscription not deducted). Source: the Flex Consumption rates quoted
  // in "Azure Functions pricing: Consumption vs. Flex Consumption" (modal.com, 2025-05-22); Microsoft's pricing
  // page itself could not be retrieved.
  flexGbSecond: 0.000026,
  flexPerMillionExecutions: 0.4,
  // Table Storage (LRS) per 10,000 transactions and Queue Storage per 10,000 operations: no current figure could
  // be found; these are the long-standing list prices, to be checked against
  // https://azure.microsoft.com/pricing/details/storage/tables/ and .../storage/queues/.
  tablePer10kTransactions: 0.00036,
  queuePer10kOperations: 0.0004,
};

const RUNS_PER_MONTH = 730; // hourly: 24 x 365 / 12

/**
 * steady: providerSteady's figures (per portal: storage calls, entities; worker seconds over all portals).
 * instanceMb: the Flex instance memory the runs are billed at.
 */
export function costPerTenantMonth(steady, instanceMb, prices = PRICES) {
  const per = steady.perPortal;
  // Each run: the timer's put, the host's get (16 messages a call) and its delete.
  const queueOps = per.queueCalls + 1 / 16 + 1;
  // The instance runs `concurrency` runs at once and is billed while any executes: its active seconds shared out.
  const instanceSecondsPerRun = steady.seconds / steady.portals;
  const gbSeconds = instanceSecondsPerRun * (instanceMb / 1024);
  const month = {
    tableTransactions: Math.round(per.storageCalls * RUNS_PER_MONTH),
    queueOperations: Math.round(queueOps * RUNS_PER_MONTH),
    executions: RUNS_PER_MONTH,
    gbSeconds: Math.round(gbSeconds * RUNS_PER_MONTH * 100) / 100,
  };
  const usd = {
    table: (month.tableTransactions / 10_000) * prices.tablePer10kTransactions,
    queue: (month.queueOperations / 10_000) * prices.queuePer10kOperations,
    execution: month.gbSeconds * prices.flexGbSecond + (month.executions / 1e6) * prices.flexPerMillionExecutions,
  };
  const total = usd.table + usd.queue + usd.execution;
  const round = (n) => Math.round(n * 1e5) / 1e5;
  return {
    usd: round(total),
    parts: { table: round(usd.table), queue: round(usd.queue), execution: round(usd.execution) },
    month,
    instanceMb,
    pricesTaken: prices.taken,
    prices,
  };
}
