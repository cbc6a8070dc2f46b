// Writes the generated tables of docs/METRICS.md from the metric declarations (run after a build).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { withGeneratedTables } = createRequire(import.meta.url)(join(root, 'dist/internal/collector/metrics-doc.js'));
const file = join(root, 'docs/METRICS.md');
const before = readFileSync(file, 'utf8');
const after = withGeneratedTables(before);
if (after !== before) writeFileSync(file, after);
console.log(after === before ? 'docs/METRICS.md is current' : 'docs/METRICS.md updated');
