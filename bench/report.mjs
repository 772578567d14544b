// The benchmark's table (the JSON line after it has every figure).

function rowsOf(r, label) {
  const rows = [];
  const row = (name, m, note = '') =>
    m &&
    rows.push([
      `${name}${label}`,
      m.seconds,
      m.graphRequests ?? '',
      m.entitiesRead ?? '',
      m.entitiesWritten ?? '',
      m.transactions ?? '',
      m.storageCalls ?? '',
      m.peakRssMb ?? '',
      m.cpuPercent ?? '',
      note,
    ]);
  const f = r.floors ?? {};
  row('floor: Graph read', f.graphRead, `${f.graphRead?.users ?? ''} users`);
  row('floor: write', f.write, '100-entity transactions');
  row('floor: ledger read', f.ledgerRead, `${f.ledgerRead?.consumers ?? ''} consumers`);
  const vsFloor = (m) =>
    m && `${m.readMode}; ${m.ratioToFloor} x max of floors (${m.floorSeconds}s); ${m.ratioToSumOfFloors} x their sum`;
  row('full sync', r.full, r.full && `${vsFloor(r.full)}; delta link kept: ${r.full.deltaLinkKept}`);
  row('second run, no change', r.noChangeDelta, r.noChangeDelta?.readMode);
  row('no change (full read)', r.noChange, vsFloor(r.noChange));
  row('1% changed', r.delta, r.delta && `${r.delta.readMode}; ${JSON.stringify(r.changes)}`);
  const p = r.provider;
  row('provider: fan-out', p?.fanout, p && `${p.fanout.messages} messages, ${p.fanout.skipped} skipped`);
  row('provider: enqueue', p?.enqueue, p && `${p.enqueue.messages} queue puts`);
  const a = r.activity;
  row(
    'activity: first run today',
    a?.firstRun,
    a &&
      `${a.activityGraphRequests} activity requests (ceil(${a.licensedUsers} licensed / 120) = ${a.expectedActivityPages})`,
  );
  row('activity: second run', a?.secondRun, a && `${a.secondRunReadMode}; no activity pass`);
  row('provider: worker', p?.worker, p && `concurrency ${p.worker.concurrency}; ${JSON.stringify(p.worker.statuses)}`);
  return rows;
}

export function printReport(result, { portals, portalUsers, heapMb }) {
  const rows = [...rowsOf(result, ''), ...(result.latency ? rowsOf(result.latency, ' [lat]') : [])];
  const header = ['scenario', 'seconds', 'graph req', 'ent read', 'ent written', 'transactions', 'storage calls'];
  header.push('peak RSS MB', 'CPU %', 'notes');
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (cells) => cells.map((c, i) => String(c ?? '').padEnd(widths[i])).join('  ');
  console.log(
    `\nm365-license-sync benchmark: ${result.users} users, ${result.plans} plans; provider ${portals} portals x ${portalUsers} users; heap cap ${heapMb ? `${heapMb} MB` : 'none'}`,
  );
  if (result.latency) {
    console.log(
      `[lat]: with latency: Graph ${result.latency.graphPageMs} ms per page of 999 users (scaled by page size), storage ${result.latency.storageMs} ms per call`,
    );
  }
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));

  for (const [key, s] of Object.entries(result.providerSteady ?? {})) {
    const p = s.perPortal;
    console.log(
      `providerSteady (${key}): ${s.portals} portals x ${s.usersPerPortal} users, hourly run, nothing changed: ${s.seconds}s (worker ${s.workerSeconds}s, ${s.ratioToFloor} x floor ${s.floorSeconds}s at concurrency ${s.concurrency}); per portal: ${p.graphRequests} Graph requests, ${p.storageCalls} storage calls, ${p.entitiesWritten} entities written, floor ${p.floorSeconds}s; ${JSON.stringify(s.readModes)}`,
    );
  }
  for (const [key, a] of Object.entries(result.api ?? {})) {
    if (typeof a !== 'object') continue;
    const page = (x) => (typeof x === 'object' ? `${x.items} items, ${x.storageCalls} storage calls, ${x.ms} ms` : x);
    console.log(
      `api (${key}): consumers of a plan of ${result.api.consumersOfPlan}, first page: ${page(a.consumers)}; waste: ${page(a.waste)}; alerts: ${page(a.alerts)}`,
    );
  }
  const c = result.costPerTenantMonth;
  if (c) {
    console.log(
      `cost per tenant per month (hourly, ${c.instanceMb} MB instance, list prices of ${c.pricesTaken}): $${c.usd} (table $${c.parts.table}, queue $${c.parts.queue}, execution $${c.parts.execution}); ${JSON.stringify(c.month)}`,
    );
  }
  console.log(
    `peak RSS of the benchmark process: ${result.peakRssMb} MB; simulator process: ${result.simulatorRssMb} MB`,
  );
}
