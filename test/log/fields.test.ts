// Log lines are read by machines: one spelling for an error's field, one helper that produces
// it, one naming scheme for failure streaks. Checked over the sources, which are where a second
// spelling would come from.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../support/paths';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) return sources(full);
    return entry.endsWith('.ts') ? [full] : [];
  });
}

const files = [...sources(join(REPO_ROOT, 'internal')), ...sources(join(REPO_ROOT, 'cmd'))].map((file) => ({ file: relative(REPO_ROOT, file), text: readFileSync(file, 'utf8') }));

function occurrences(pattern: RegExp): string[] {
  return files.flatMap(({ file, text }) => [...text.matchAll(pattern)].map((m) => `${file}: ${m[0]}`));
}

test('one errorMessage helper, no inline copies', () => {
  assert.deepEqual(occurrences(/function errorMessage\b/g), ['internal/log/logger.ts: function errorMessage']);
  assert.deepEqual(occurrences(/\w+ instanceof Error \? \w+\.message : String\(\w+\)/g), ['internal/log/logger.ts: err instanceof Error ? err.message : String(err)']);
});

test('an error in a log line is the field `err`, a string', () => {
  // Fields of the objects handed to a log call or a failure streak.
  const logged = /(?:logger|this\.logger|this\.deps\.logger)\.(?:debug|info|warn|error|fatal)\(\s*\{[^}]*\}|\.failure\([^)]*\{[^}]*\}/g;
  const wrong = files.flatMap(({ file, text }) =>
    [...text.matchAll(logged)].filter((m) => /\b(error|\w+_error)\s*:|\berr\s*:\s*(error|err|cause)\b\s*[,}]/.test(m[0])).map((m) => `${file}: ${m[0].replace(/\s+/g, ' ')}`),
  );
  assert.deepEqual(wrong, []);
});

test('failure streaks are named <component>[.<what>] after the component that owns them', () => {
  const names = files.flatMap(({ file, text }) => [...text.matchAll(/new FailureStreak\([^,]+,\s*([`'][^`']+[`'])/g)].map((m) => ({ file, name: m[1].slice(1, -1) })));
  assert.ok(names.length >= 10, `found ${names.length} streaks`);
  const components: Record<string, RegExp> = { collector: /^internal\/(collector|agent)\//, buffer: /^internal\/buffer\//, export: /^internal\/exporter\//, heartbeat: /^internal\/heartbeat\//, api: /^internal\/api\//, logs: /^internal\/logs\//, collectd: /^internal\/receiver\/collectd\// };
  for (const { file, name } of names) {
    const component = name.split('.')[0];
    assert.ok(components[component]?.test(file), `${file}: streak "${name}" is not under a component prefix (${Object.keys(components).join(', ')}) matching its module`);
  }
});
