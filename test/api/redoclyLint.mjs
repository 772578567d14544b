// Lints an OpenAPI document read from stdin with Redocly's rules (redocly.yaml at the repository root) and prints
// the problems as JSON. A separate process because @redocly/openapi-core is ESM only, which Jest's CommonJS
// module system cannot load; the library lints in memory and never reaches the network.
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { lintFromString, loadConfig } from '@redocly/openapi-core';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const config = await loadConfig({ configPath: path.join(root, 'redocly.yaml') });
const problems = await lintFromString({ source: await text(process.stdin), absoluteRef: 'openapi.json', config });
const summary = problems.map((p) => ({
  severity: p.severity,
  rule: p.ruleId,
  message: p.message,
  at: p.location.map((l) => l.pointer).join(', '),
}));
process.stdout.write(JSON.stringify(summary));
