// docs/METRICS.md's tables are the declarations the collectors use: a declaration changed without
// the docs (or the docs edited by hand) fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderProfileTable, withGeneratedTables } from '../../internal/collector/metrics-doc';
import { FAMILIES } from '../../internal/collector/registry';
import { nameIn } from '../../internal/collector/declaration';

const DOC = join(__dirname, '../../../docs/METRICS.md');

test('docs/METRICS.md holds the tables generated from the declarations (npm run docs:metrics writes them)', () => {
  const doc = readFileSync(DOC, 'utf8');
  assert.equal(withGeneratedTables(doc), doc, 'docs/METRICS.md differs from the declarations: run `npm run build && npm run docs:metrics`');
});

test('each profile\'s table has one row per metric the profile names, with its declared unit and value type', () => {
  for (const profile of ['semconv', 'hostmetrics'] as const) {
    const rows = renderProfileTable(profile).split('\n').slice(2);
    const declared = FAMILIES.flatMap(({ family }) => Object.values(family.metrics).filter((m) => nameIn(profile, m) !== undefined));
    assert.equal(rows.length, declared.length, profile);
    declared.forEach((metric, i) => {
      const cells = rows[i].split(' | ');
      assert.equal(cells[0], `| \`${nameIn(profile, metric)}\``);
      assert.equal(cells[3], typeof metric.unit === 'string' ? metric.unit : metric.unit[profile]);
      assert.equal(cells[4], typeof metric.value === 'string' ? metric.value : metric.value[profile]);
    });
  }
});

test('a metric off by default says so, with the key that turns it on', () => {
  const semconv = renderProfileTable('semconv');
  assert.match(semconv, /\| `system\.cpu\.utilization` \| cpu \|.*\| off \(`collectors\.system\.cpu_options\.utilization`\) \|/);
  assert.match(semconv, /\| `process\.cpu\.time` \| process \|.*\| off \(`collectors\.process\.enabled`\) \|/);
  assert.match(renderProfileTable('hostmetrics'), /\| `system\.cpu\.time` \|.*`state`: user, nice, system, idle, wait, interrupt, softirq, steal; `cpu` \(`cpu0`, …\) with `collectors\.system\.cpu_options\.per_cpu` \(default on\)/);
  assert.match(renderProfileTable('semconv'), /\| `system\.cpu\.time` \|.*`cpu\.logical_number` \(int\) with `collectors\.system\.cpu_options\.per_cpu` \|/);
});
