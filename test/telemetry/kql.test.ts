import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DIMENSIONS, METRICS, RUN_FINISHED_EVENT, SPANS } from '../../src/telemetry/names';

/**
 * Every KQL query the project ships (the alerts' and the workbook's in infra/, the examples in docs/deploy.md)
 * refers only to telemetry the app emits: the names it compares `name` with, and the customDimensions it reads.
 */

const root = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

function queries(): { where: string; text: string }[] {
  const found: { where: string; text: string }[] = [];
  for (const file of readdirSync(path.join(root, 'infra/monitoring')).filter((f) => f.endsWith('.kql')))
    found.push({ where: `infra/monitoring/${file}`, text: read(`infra/monitoring/${file}`) });
  const workbook = JSON.parse(read('infra/monitoring/workbook.json')) as { items: { content: { query?: string } }[] };
  for (const [index, item] of workbook.items.entries())
    if (item.content.query) found.push({ where: `workbook item ${index}`, text: item.content.query });
  for (const match of read('docs/deploy.md').matchAll(/```kusto\n([\s\S]*?)```/g))
    found.push({ where: 'docs/deploy.md', text: match[1]! });
  return found;
}

const TABLES = new Set(['customEvents', 'customMetrics', 'traces', 'requests', 'dependencies', 'exceptions']);
const NAMES = new Set<string>([...Object.values(METRICS), RUN_FINISHED_EVENT, ...Object.values(SPANS)]);

/** The names a query compares `name` with: `name == "x"` and `name in ("x", "y")`. */
function namesIn(text: string): string[] {
  const names = [...text.matchAll(/\bname\s*==\s*"([^"]+)"/g)].map((m) => m[1]!);
  for (const list of text.matchAll(/\bname\s+in\s*\(([^)]*)\)/g))
    names.push(...[...list[1]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!));
  return names;
}

const dimensionsIn = (text: string) => [...text.matchAll(/customDimensions\.([A-Za-z_][\w.]*)/g)].map((m) => m[1]!);

test('the project ships alert, workbook and documentation queries', () => {
  const all = queries();
  expect(all.filter((q) => q.where.endsWith('.kql'))).toHaveLength(2);
  expect(all.filter((q) => q.where.startsWith('workbook'))).toHaveLength(6);
  expect(all.filter((q) => q.where === 'docs/deploy.md').length).toBeGreaterThanOrEqual(5);
});

test.each(queries().map((q, i) => [`${q.where} #${i}`, q.text]))(
  '%s reads only tables, names and dimensions the app emits',
  (_where, text) => {
    const table = /^\s*(\w+)/.exec(text)?.[1] ?? '';
    expect(TABLES).toContain(table);
    const names = namesIn(text);
    // Events, metrics and requests are picked by name; a traces query by its dimensions.
    if (table !== 'traces') expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(NAMES).toContain(name);
    for (const dimension of dimensionsIn(text)) expect(DIMENSIONS).toContain(dimension);
    // Dimensions, not text matching on messages.
    expect(text).not.toMatch(/message\s+(has|startswith|contains)/);
  },
);

test('the parser finds names and dimensions (a query naming something the app does not emit fails)', () => {
  const wrong =
    'customMetrics | where name in ("licensesync.license.free", "licensesync.nope") | extend x = customDimensions.userId';
  expect(namesIn(wrong)).toEqual(['licensesync.license.free', 'licensesync.nope']);
  expect(NAMES).not.toContain('licensesync.nope');
  expect(dimensionsIn(wrong)).toEqual(['userId']);
  expect(DIMENSIONS).not.toContain('userId' as never);
});
