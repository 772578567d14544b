// Import boundaries of the app (`npm run depcruise`, part of `npm test`). Layers, from the bottom:
//   foundation  src/domain (records, ports, plan types), src/config, src/util: import nothing else of the app;
//   adapters    src/graph, src/ledger, src/storage, src/secrets, src/skus, src/host: implement the ports;
//   use cases   src/sync, src/runs, src/api, src/portals, src/reconcile, src/web, src/notify: reach adapters through the ports;
//   entry       src/app (the composition root), functions/, and src/local (the local host: anything in src).
// Beside them, src/telemetry is instrumentation, like a logging library: it imports only the foundation, and
// anything above may call it (a use case marks its steps with traceStep; each call is a no-op until the distro
// is started). Only the entry points start it (telemetry/worker, telemetry/local).
// Tests (*.test.ts, test/) may import anything; nothing else imports them. No cycles anywhere.
const notTest = '\\.test\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'A cycle of imports (type-only imports count too): move the shared part down a layer.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'foundation-imports-only-foundation',
      comment: 'src/domain, src/config and src/util are the bottom layer.',
      severity: 'error',
      from: { path: '^src/(domain|config|util)/', pathNot: notTest },
      to: { path: '^(src/(?!domain/|config/|util/)|functions/|test/)' },
    },
    {
      name: 'domain-logic-imports-only-below',
      comment: 'src/insights and src/alerts are the rules of the insights and alerts: pure, on the foundation.',
      severity: 'error',
      from: { path: '^src/(insights|alerts)/', pathNot: notTest },
      to: { path: '^(src/(?!domain/|config/|util/|insights/|alerts/)|functions/|test/)' },
    },
    {
      name: 'telemetry-imports-only-foundation',
      comment: 'src/telemetry is instrumentation any layer may call: it must not reach back into them.',
      severity: 'error',
      from: { path: '^src/telemetry/', pathNot: notTest },
      to: { path: '^(src/(?!domain/|config/|util/|telemetry/)|functions/|test/)' },
    },
    {
      name: 'telemetry-started-only-by-entry-points',
      comment: "Starting the distro is the process entry point's choice (functions/ first line, npm start).",
      severity: 'error',
      from: { path: '^src/', pathNot: [notTest, '^src/(local|telemetry)/'] },
      to: { path: '^src/telemetry/(worker|local)\\.ts$' },
    },
    {
      name: 'adapters-never-import-upward',
      comment: 'An adapter implements a port of the domain; it never imports a use case, the composition or an entry.',
      severity: 'error',
      from: { path: '^src/(graph|ledger|storage|secrets|skus|host)/', pathNot: notTest },
      to: { path: '^(src/(sync|runs|api|portals|reconcile|web|notify|app|local)/|functions/)' },
    },
    {
      name: 'use-cases-never-import-upward',
      severity: 'error',
      from: { path: '^src/(sync|runs|api|portals|reconcile|web|notify)/', pathNot: notTest },
      to: { path: '^(src/(app|local)/|functions/)' },
    },
    {
      name: 'use-cases-use-ports',
      comment: 'A use case reaches storage, Graph, secrets and the product names through the ports (Services).',
      severity: 'error',
      from: { path: '^src/(sync|runs|api|portals|reconcile|notify)/', pathNot: notTest },
      to: { path: '^src/(graph|ledger|storage|secrets|skus)/' },
    },
    {
      name: 'composition-only-from-entry-points',
      severity: 'error',
      from: { path: '^src/', pathNot: [notTest, '^src/(app|local)/'] },
      to: { path: '^src/app/' },
    },
    {
      name: 'local-host-only-from-itself',
      severity: 'error',
      from: { path: '^(src|functions)/', pathNot: [notTest, '^src/local/'] },
      to: { path: '^src/local/' },
    },
    {
      name: 'no-tests-from-production',
      severity: 'error',
      from: { path: '^(src|functions)/', pathNot: notTest },
      to: { path: '(^test/|\\.test\\.ts$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
