import { defaultConfig } from '../config/defaults';
import type { NamingProfile } from '../config/types';
import { configuredSwitches, nameIn, unitIn, valueTypeIn, type AttributeDecl, type Family, type MetricDecl } from './declaration';
import { HOSTMETRICS_KEYS, HOSTMETRICS_VALUES, translateAttributes } from './naming';
import { FAMILIES } from './registry';

// The tables of docs/METRICS.md, rendered from the families' declarations: the docs say what the
// collectors create, because both read the same data. `npm run docs:metrics` writes them; a test
// fails when the file differs.

const PROFILES: readonly NamingProfile[] = ['semconv', 'hostmetrics'];

function code(text: string): string {
  return `\`${text}\``;
}

/** One attribute as the profile reports it: key, then its values or its type. */
function attributeCell(profile: NamingProfile, key: string, decl: AttributeDecl): string {
  const name = profile === 'semconv' ? key : (HOSTMETRICS_KEYS[key] ?? key);
  let text = code(name);
  if (decl.values !== undefined) {
    const valueMap = HOSTMETRICS_VALUES[key] ?? {};
    const values = profile === 'semconv' ? decl.values : (decl.hostmetricsValues ?? decl.values.map((v) => valueMap[v] ?? v));
    text += `: ${values.join(', ')}`;
  } else if (decl.int === true) {
    // The translation may turn a number into a name (hostmetrics' "cpu0").
    const sample = translateAttributes(profile, { [key]: 0 })?.[name];
    text += typeof sample === 'string' ? ` (${code(sample)}, …)` : ' (int)';
  }
  if (decl.when !== undefined) text += ` with ${code(decl.when)}${decl.default?.[profile] === true ? ' (default on)' : ''}`;
  if (decl.resource === true) text += ' (resource)';
  return text;
}

function attributesCell(profile: NamingProfile, decl: MetricDecl): string {
  const entries = Object.entries(decl.attributes ?? {}).filter(([, a]) => a.profiles === undefined || a.profiles.includes(profile));
  return entries.length === 0 ? '—' : entries.map(([key, a]) => attributeCell(profile, key, a)).join('; ');
}

/** On or off under the default config, and the key that switches it. */
function defaultCell(profile: NamingProfile, family: Family, key: string, decl: MetricDecl): string {
  const config = defaultConfig();
  if (!family.enabled(config)) return `off (${code(family.switch)})`;
  const on = configuredSwitches(family, config, profile)[key] ?? decl.default[profile];
  const option = decl.option === undefined ? '' : ` (${code(`${family.settingsKey}.${decl.option}`)})`;
  return `${on ? 'on' : 'off'}${option}`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The table of every metric the profile can report. */
export function renderProfileTable(profile: NamingProfile): string {
  const rows = ['| name | family | kind | unit | value | attributes | default | source |', '|---|---|---|---|---|---|---|---|'];
  for (const entry of FAMILIES) {
    const { family } = entry;
    const readers = [`${family.name}/procfs.ts`, ...(entry.portable === undefined ? [] : [`${family.name}/portable.ts`])];
    for (const [key, decl] of Object.entries(family.metrics)) {
      const name = nameIn(profile, decl);
      if (name === undefined) continue;
      const cells = [
        code(name), family.name, decl.kind, unitIn(profile, decl), valueTypeIn(profile, decl), attributesCell(profile, decl),
        defaultCell(profile, family, key, decl), readers.map(code).join(', '),
      ];
      rows.push(`| ${cells.map(escapeCell).join(' | ')} |`);
    }
  }
  return rows.join('\n');
}

const begin = (profile: NamingProfile): string => `<!-- generated from the declarations: ${profile} -->`;
const END = '<!-- end of generated table -->';

/** `doc` with each profile's generated table replaced by the current one. */
export function withGeneratedTables(doc: string): string {
  let out = doc;
  for (const profile of PROFILES) {
    const start = out.indexOf(begin(profile));
    const end = out.indexOf(END, start);
    if (start < 0 || end < 0) throw new Error(`docs/METRICS.md has no ${begin(profile)} … ${END} section`);
    out = `${out.slice(0, start)}${begin(profile)}\n${renderProfileTable(profile)}\n${out.slice(end)}`;
  }
  return out;
}
