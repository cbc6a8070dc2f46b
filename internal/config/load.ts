// Loads the effective configuration: defaults, then the YAML file (placeholders expanded), then
// the environment, then command-line flags. Every problem is collected and reported at once.

import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { checkConfig, schemeTls } from './checks';
import { defaultConfig } from './defaults';
import { applyEnvironment, type Origins } from './env';
import { ConfigError, type ConfigProblem, type ConfigWarning } from './errors';
import { expandTree } from './expand';
import { tryParseDuration } from './duration';
import { CONFIG_SCHEMA, DURATION_PATHS, INERT_SECTIONS, type JsonSchema } from './schema';
import { isSecretPath, MASK, maskUrlPassword, splitUrlCredentials } from './secrets';
import { closestMatch } from './suggest';
import { deepMerge, deleteAt, getAt, isTree, setAt, withoutNulls, type Tree } from './tree';
import type { AgentConfig } from './types';

export interface LoadOptions {
  /** Explicit `--config`; when absent the lookup order applies. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  flags?: { logLevel?: string; logFormat?: string; hostRoot?: string };
  /** Base of relative paths (file lookup, TLS files, host root); the process cwd by default. */
  cwd?: string;
}

export interface LoadedConfig {
  config: AgentConfig;
  warnings: ConfigWarning[];
  /** Absolute path of the file loaded, undefined when none was found. */
  file: string | undefined;
}

/** Where the agent looks for a file when none is given, in order. */
export function configSearchPaths(cwd: string, home: string): string[] {
  return [
    join(cwd, 'tfo-agent.yaml'),
    join(cwd, 'configs', 'tfo-agent.yaml'),
    '/etc/tfo-agent/tfo-agent.yaml',
    join(home, '.tfo-agent', 'tfo-agent.yaml'),
  ];
}

const FLAG_BINDINGS = [
  ['logLevel', '--log-level', ['logging', 'level']],
  ['logFormat', '--log-format', ['logging', 'format']],
  ['hostRoot', '--host-root', ['host_root']],
] as const;

const INERT_REASONS: Readonly<Record<(typeof INERT_SECTIONS)[number], string>> = {
  security: 'section is ignored: TLS is set in telemetryflow.tls, credentials belong in the environment',
  auto_update: 'section is ignored: tfo-agent does not update itself; upgrade through your package manager or image',
  retention: 'section is ignored: retention is decided by the backend; the local buffer uses buffer.max_age',
  resources: 'section is ignored: limit the agent with systemd or container resource limits',
  cache: 'section is ignored: the only local store is the buffer (buffer.*)',
  integrations: 'section is ignored: integrations are not implemented',
};

// Keys of the Go agent's files that have no meaning here: dropped with a warning saying why.
const INERT_KEYS: ReadonlyArray<readonly [readonly string[], string]> = [
  [['exporter', 'otlp', 'flush_interval'], 'has no effect and is ignored: each collection is exported when it is made, every collectors.system.interval; exporter.otlp.batch_size and max_request_bytes bound a request'],
];

// The TelemetryFlow Go agent's `api:` section named its backend; here `api:` is the local query API.
const LEGACY_API_KEYS = ['endpoint', 'api_key_id', 'api_key_secret'];

function displayValue(path: string, value: unknown): unknown {
  return isSecretPath(path) ? MASK : value;
}

function pathOf(instancePath: string): string[] {
  return instancePath === '' ? [] : instancePath.slice(1).split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The schema type as a person would name it. */
function expectedType(type: unknown): string {
  switch (type) {
    case 'boolean': return 'must be true or false';
    case 'integer': return 'must be a whole number';
    case 'string': return 'must be a string';
    case 'array': return 'must be a list';
    case 'object': return 'must be a mapping of keys to values';
    default: return `must be of type ${String(type)}`;
  }
}

function schemaMessage(error: ErrorObject): string {
  switch (error.keyword) {
    case 'format': {
      const ms = typeof error.data === 'string' ? tryParseDuration(error.data) : undefined;
      return ms !== undefined && ms < 0 ? 'must not be negative' : 'is not a duration, e.g. "15s"';
    }
    case 'enum': return `must be one of: ${(error.params.allowedValues as unknown[]).join(', ')}`;
    case 'type': return expectedType(error.params.type);
    case 'minimum': return `must be at least ${String(error.params.limit)}`;
    case 'maximum': return `must be at most ${String(error.params.limit)}`;
    default: return error.message ?? 'is not valid';
  }
}

// Unknown keys listed one by one; beyond this, one warning counts the rest, so that a file of
// thousands of stray keys gives a readable report and not thousands of start-up log lines.
const MAX_UNKNOWN_KEY_WARNINGS = 50;

let compiledSchema: ValidateFunction | undefined;

/**
 * The validator of CONFIG_SCHEMA, generated as code at build time (scripts/build-config-validator.mjs)
 * so that the agent never loads ajv; loaded on first use, which `version` does not make.
 */
function schemaValidator(): ValidateFunction {
  compiledSchema ??= require('./config-validator') as ValidateFunction;
  return compiledSchema;
}

/**
 * Validates (and type-coerces) the tree in place. Invalid values become problems and are removed;
 * unknown keys become warnings with a suggestion and are removed.
 */
function validateTree(tree: Tree, origins: Origins, problems: ConfigProblem[], warnings: ConfigWarning[]): void {
  const validate = schemaValidator();
  if (validate(tree)) return;
  const invalid: string[][] = [];
  let unknown = 0;
  for (const error of validate.errors ?? []) {
    const keys = pathOf(error.instancePath);
    if (error.keyword === 'additionalProperties') {
      const key = String(error.params.additionalProperty);
      invalid.push([...keys, key]);
      if (++unknown > MAX_UNKNOWN_KEY_WARNINGS) continue;
      const siblings = Object.keys(((error.parentSchema as JsonSchema).properties ?? {}) as object);
      const suggestion = closestMatch(key, siblings);
      warnings.push({
        path: [...keys, key].join('.'),
        message: `unknown key, ignored${suggestion === undefined ? '' : `; did you mean "${suggestion}"?`}`,
      });
      continue;
    }
    const path = keys.join('.') || '(root)';
    const origin = origins.get(path);
    problems.push({
      path,
      value: displayValue(path, error.data),
      message: schemaMessage(error) + (origin === undefined ? '' : ` (set by ${origin})`),
    });
    invalid.push(keys);
  }
  if (unknown > MAX_UNKNOWN_KEY_WARNINGS) {
    warnings.push({ path: '(config file)', message: `${unknown - MAX_UNKNOWN_KEY_WARNINGS} more unknown keys, ignored (only the first ${MAX_UNKNOWN_KEY_WARNINGS} are listed)` });
  }
  for (const keys of invalid) deleteAt(tree, keys);
}

const YAML11_BOOLEANS: Readonly<Record<string, boolean>> = { yes: true, on: true, no: false, off: false };

/**
 * YAML 1.1 booleans (`yes`, `on`, `no`, `off`) become true/false where the schema wants a boolean:
 * the Go agent's YAML library reads them so, and its users' files contain them.
 */
function foldYaml11Booleans(node: unknown, schema: JsonSchema): void {
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (!isTree(node) || properties === undefined) return;
  for (const [key, child] of Object.entries(properties)) {
    const value = node[key];
    if (child.type === 'boolean' && typeof value === 'string') {
      const folded = YAML11_BOOLEANS[value.toLowerCase()];
      if (folded !== undefined) node[key] = folded;
    } else {
      foldYaml11Booleans(value, child);
    }
  }
}

/** The Go agent's spelling `insecure_skip_verify` folds into `skip_verify`. */
function foldTlsAlias(tree: Tree, problems: ConfigProblem[]): void {
  const tls = getAt(tree, ['telemetryflow', 'tls']);
  if (!isTree(tls) || tls.insecure_skip_verify === undefined) return;
  if (tls.skip_verify !== undefined && tls.skip_verify !== tls.insecure_skip_verify) {
    problems.push({ path: 'telemetryflow.tls.insecure_skip_verify', value: tls.insecure_skip_verify, message: `contradicts telemetryflow.tls.skip_verify (${String(tls.skip_verify)}); set only one` });
  } else {
    tls.skip_verify = tls.insecure_skip_verify;
  }
  delete tls.insecure_skip_verify;
}

function dropInertSections(tree: Tree, warnings: ConfigWarning[]): void {
  for (const section of INERT_SECTIONS) {
    if (tree[section] === undefined) continue;
    warnings.push({ path: section, message: INERT_REASONS[section] });
    delete tree[section];
  }
}

function dropInertKeys(tree: Tree, warnings: ConfigWarning[]): void {
  for (const [keys, reason] of INERT_KEYS) {
    if (getAt(tree, keys) === undefined) continue;
    warnings.push({ path: keys.join('.'), message: reason });
    deleteAt(tree, keys);
  }
}

/** The Go agent's keys in `api:` are dropped with one warning pointing at their new home. */
function dropLegacyApiKeys(tree: Tree, warnings: ConfigWarning[]): void {
  const api = tree.api;
  if (!isTree(api)) return;
  const legacy = LEGACY_API_KEYS.filter((key) => api[key] !== undefined);
  if (legacy.length === 0) return;
  for (const key of legacy) delete api[key];
  warnings.push({
    path: 'api',
    message: `${legacy.map((key) => `api.${key}`).join(', ')}: the Go agent's backend keys are ignored (api: is the local query API here); use telemetryflow.backend_endpoint, telemetryflow.api_key_id and telemetryflow.api_key_secret`,
  });
}

/** api.csv_dir left empty lives under agent.data_dir. */
function resolveCsvDir(config: AgentConfig): void {
  if (config.api.csv_dir === '') config.api.csv_dir = join(config.agent.data_dir, 'csv');
}

function durationsToMilliseconds(tree: Tree): void {
  for (const path of DURATION_PATHS) {
    const keys = path.split('.');
    const value = getAt(tree, keys);
    if (typeof value === 'string') setAt(tree, keys, tryParseDuration(value));
  }
}

/** The file to load: the explicit one, or the first of the search paths that exists. */
function locateFile(options: LoadOptions, cwd: string, home: string, warnings: ConfigWarning[]): string | undefined {
  if (options.file !== undefined) {
    const file = isAbsolute(options.file) ? options.file : resolve(cwd, options.file);
    if (!existsSync(file)) {
      throw new ConfigError([{ path: file, message: 'config file does not exist (given with --config)' }], file);
    }
    return file;
  }
  const candidates = configSearchPaths(cwd, home);
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found === undefined) {
    warnings.push({ path: '(config file)', message: `none found (looked in ${candidates.join(', ')}); using defaults and environment` });
  }
  return found;
}

interface ParsedFile {
  tree: Tree;
  /** The line of a dot-separated key path in the file, when the file has that key. */
  lineOf(path: string): number | undefined;
}

/**
 * Bounds on what a config file may ask of the loader. A real config is a few kB, a handful of
 * levels deep and has few aliases; anything far beyond is a mistake or an attack, and each bound
 * keeps the load linear and well under a second.
 */
export const CONFIG_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 32, maxAliases: 256 } as const;

// Syntax errors listed; a file that is not YAML at all would otherwise give thousands.
const MAX_SYNTAX_ERRORS = 20;

/** What one pass over the parsed document finds: the line of every key and what is wrong. */
interface DocumentIndex {
  lines: Map<string, number>;
  problems: ConfigProblem[];
}

/**
 * One walk over the document, in document order: records the line of every key path (first
 * occurrence wins), and reports duplicate keys, nesting beyond maxDepth, too many aliases, and an
 * alias inside the node it names (`&t {x: *t}`), which would make the tree infinite.
 */
function indexDocument(document: Document, counter: LineCounter, file: string): DocumentIndex {
  const index: DocumentIndex = { lines: new Map(), problems: [] };
  const anchors = new Map<string, unknown>();
  const open = new Set<unknown>();
  let aliases = 0;
  const at = (node: { range?: readonly number[] | null }): { line: number; col: number } => counter.linePos(node.range?.[0] ?? 0);
  const fail = (node: { range?: readonly number[] | null }, message: string): void => {
    const { line, col } = at(node);
    index.problems.push({ path: `${file}:${line}:${col}`, message });
  };
  const walk = (node: unknown, path: string, depth: number): boolean => {
    if (isAlias(node)) {
      aliases += 1;
      if (aliases > CONFIG_LIMITS.maxAliases) {
        fail(node, `more than ${CONFIG_LIMITS.maxAliases} aliases (*name); a configuration needs few`);
        return false;
      }
      if (open.has(anchors.get(node.source))) {
        fail(node, `alias *${node.source} refers to a node that contains it, which would repeat forever`);
        return false;
      }
      return true;
    }
    if (!isMap(node) && !isSeq(node)) return true;
    if (depth > CONFIG_LIMITS.maxDepth) {
      fail(node, `nested deeper than ${CONFIG_LIMITS.maxDepth} levels`);
      return false;
    }
    if (node.anchor) anchors.set(node.anchor, node);
    open.add(node);
    const seen = new Set<string>();
    for (const item of node.items) {
      if (isPair(item)) {
        const key = isScalar(item.key) ? String(item.key.value) : undefined;
        const keyPath = key === undefined ? path : path === '' ? key : `${path}.${key}`;
        if (key !== undefined && isScalar(item.key)) {
          if (seen.has(key)) {
            const { line, col } = at(item.key);
            index.problems.push({ path: `${file}:${line}:${col}`, message: `YAML syntax error at line ${line}, column ${col}: Map keys must be unique` });
          }
          seen.add(key);
          if (!index.lines.has(keyPath)) index.lines.set(keyPath, at(item.key).line);
        }
        if (!walk(item.key, keyPath, depth + 1) || !walk(item.value, keyPath, depth + 1)) return false;
      } else if (!walk(item, path, depth + 1)) {
        return false;
      }
    }
    open.delete(node);
    return true;
  };
  walk(document.contents, '', 0);
  return index;
}

/**
 * Reads the file, refusing one larger than CONFIG_LIMITS.maxBytes before reading it. A pipe or a
 * device (`--config <(…)`, /dev/zero) reports no size: at most one byte past the limit is read.
 */
function readConfigText(file: string): string {
  const limit = CONFIG_LIMITS.maxBytes;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const { size } = fstatSync(fd);
    if (size > limit) throw new ConfigError([{ path: file, message: `config file is ${size} bytes; the limit is ${limit} (1 MiB)` }], file);
    const buffer = Buffer.allocUnsafe(limit + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > limit) throw new ConfigError([{ path: file, message: `config file is longer than the limit of ${limit} bytes (1 MiB)` }], file);
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError([{ path: file, message: `cannot read config file (${(error as NodeJS.ErrnoException).code ?? String(error)})` }], file);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The file's YAML as a plain tree. Syntax errors give line and column and stop the load; so does
 * anything beyond CONFIG_LIMITS. Every failure is a ConfigError, so that the process exits 2.
 */
function readYaml(file: string): ParsedFile {
  const text = readConfigText(file);
  const counter = new LineCounter();
  // prettyErrors off: its messages quote the source line, which may hold a literal secret.
  // uniqueKeys off: the library checks it in quadratic time; indexDocument does it in linear time.
  const document = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: false });
  if (document.errors.length > 0) {
    const problems: ConfigProblem[] = document.errors.slice(0, MAX_SYNTAX_ERRORS).map((error) => {
      const { line, col } = counter.linePos(error.pos[0]);
      return { path: `${file}:${line}:${col}`, message: `YAML syntax error at line ${line}, column ${col}: ${error.message}` };
    });
    const more = document.errors.length - problems.length;
    if (more > 0) problems.push({ path: file, message: `${more} more YAML syntax errors` });
    throw new ConfigError(problems, file);
  }
  const index = indexDocument(document, counter, file);
  if (index.problems.length > 0) throw new ConfigError(index.problems, file);
  let tree: unknown;
  try {
    tree = withoutNulls(document.toJS({ maxAliasCount: 1000 }));
  } catch (error) {
    // The library's guard against an alias that expands into millions of nodes (billion laughs).
    throw new ConfigError([{ path: file, message: `cannot be loaded: ${(error as Error).message}` }], file);
  }
  if (tree !== undefined && tree !== null && !isTree(tree)) {
    throw new ConfigError([{ path: file, message: 'the top level must be a mapping of sections (telemetryflow:, agent:, …)' }], file);
  }
  return { tree: isTree(tree) ? tree : {}, lineOf: (path) => index.lines.get(path) };
}

const NO_FILE: ParsedFile = { tree: {}, lineOf: () => undefined };

/** Adds the file line to each problem and warning whose value came from the file. */
function addLines(items: (ConfigProblem | ConfigWarning)[], parsed: ParsedFile, origins: Origins): void {
  for (const item of items) {
    if (origins.has(item.path)) continue;
    const line = parsed.lineOf(item.path);
    if (line !== undefined) item.line = line;
  }
}

/** Derives tls.enabled from an explicit http:// or https:// endpoint. */
function applyEndpointScheme(config: AgentConfig, tree: Tree, warnings: ConfigWarning[]): void {
  const fromScheme = schemeTls(config.telemetryflow.endpoint);
  if (fromScheme === undefined) return;
  const stated = getAt(tree, ['telemetryflow', 'tls', 'enabled']);
  if (typeof stated === 'boolean' && stated !== fromScheme) {
    warnings.push({
      path: 'telemetryflow.tls.enabled',
      message: `is ${String(stated)} but the endpoint says ${fromScheme ? 'https://' : 'http://'}; the endpoint's scheme wins`,
    });
  }
  config.telemetryflow.tls.enabled = fromScheme;
}

/**
 * `http://user:password@collector` as an OTLP endpoint: the exporter sends the userinfo as
 * `Authorization: Basic …`, as curl and the heartbeat do, and the endpoint is kept without it, so
 * that no log line or status shows the password.
 */
function moveEndpointCredentials(config: AgentConfig, problems: ConfigProblem[]): void {
  const otlp = config.exporter.otlp;
  // The logs endpoint's credentials go with the log requests only.
  const endpoints = [
    ['telemetryflow.endpoint', () => config.telemetryflow.endpoint, (url: string) => (config.telemetryflow.endpoint = url), 'exporter.otlp.headers', otlp.headers],
    ['exporter.otlp.metrics_endpoint', () => otlp.metrics_endpoint, (url: string) => (otlp.metrics_endpoint = url), 'exporter.otlp.headers', otlp.headers],
    ['exporter.otlp.logs.endpoint', () => otlp.logs.endpoint, (url: string) => (otlp.logs.endpoint = url), 'exporter.otlp.logs.headers', otlp.logs.headers],
  ] as const;
  for (const [path, read, write, headersKey, headers] of endpoints) {
    const written = read();
    const split = splitUrlCredentials(written);
    if (split === undefined) continue;
    write(split.url);
    const existing = Object.keys(headers).find((name) => name.toLowerCase() === 'authorization');
    if (existing !== undefined) {
      problems.push({ path, value: maskUrlPassword(written), message: `carries credentials and ${headersKey} sets ${existing} too; keep one of them` });
      continue;
    }
    headers.Authorization = `Basic ${Buffer.from(`${split.username}:${split.password}`).toString('base64')}`;
  }
}

/**
 * The effective configuration. Precedence: flag > environment > file > default.
 * Throws ConfigError listing every problem; returns the warnings for the caller to log.
 */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const warnings: ConfigWarning[] = [];
  const problems: ConfigProblem[] = [];
  const file = locateFile(options, cwd, env.HOME || homedir(), warnings);

  const parsed = file === undefined ? NO_FILE : readYaml(file);
  const expansion = expandTree(parsed.tree, env);
  problems.push(...expansion.problems);
  const tree = expansion.tree as Tree;

  const origins: Origins = new Map();
  applyEnvironment(tree, env, origins, problems);
  for (const [flag, name, keys] of FLAG_BINDINGS) {
    const value = options.flags?.[flag];
    if (value === undefined) continue;
    setAt(tree, keys, value);
    origins.set(keys.join('.'), name);
  }

  foldYaml11Booleans(tree, CONFIG_SCHEMA);
  dropLegacyApiKeys(tree, warnings);
  dropInertKeys(tree, warnings);
  validateTree(tree, origins, problems, warnings);
  foldTlsAlias(tree, problems);
  dropInertSections(tree, warnings);
  durationsToMilliseconds(tree);

  const config = deepMerge(defaultConfig(), tree);
  applyEndpointScheme(config, tree, warnings);
  moveEndpointCredentials(config, problems);
  resolveCsvDir(config);
  checkConfig(config, cwd, problems, warnings);
  addLines([...problems, ...warnings], parsed, origins);
  if (problems.length > 0) throw new ConfigError(problems, file, warnings);
  return { config, warnings, file };
}
