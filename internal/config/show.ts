// What `config show` and `config validate` print: the effective configuration in the file's
// layout with secrets masked, and a one-screen summary.

import { stringify } from 'yaml';
import { logsExportConfig, resolveExportTarget } from '../exporter/endpoint';
import { formatDuration } from './duration';
import { formatWarning } from './errors';
import type { LoadedConfig } from './load';
import { DURATION_PATHS } from './schema';
import { isSecretHeaderName, MASK, maskUrlPassword } from './secrets';
import { getAt, setAt, type Tree } from './tree';
import { SECRET_PATHS, type AgentConfig, type SystemCollectorsConfig } from './types';

/** A copy safe to print: secrets that are set become `***`; empty ones stay empty. */
function masked(config: AgentConfig): AgentConfig {
  const copy = structuredClone(config);
  for (const path of SECRET_PATHS) {
    const keys = path.split('.');
    if (getAt(copy as unknown as Tree, keys)) setAt(copy as unknown as Tree, keys, MASK);
  }
  for (const headers of [copy.exporter.otlp.headers, copy.exporter.otlp.logs.headers]) {
    for (const name of Object.keys(headers)) if (isSecretHeaderName(name)) headers[name] = MASK;
  }
  return maskUrlPasswords(copy as unknown as Tree) as unknown as AgentConfig;
}

/** Every string of the tree with a URL's password masked: any key may hold a URL (metadata base_url, a tag). */
function maskUrlPasswords(value: unknown): unknown {
  if (typeof value === 'string') return maskUrlPassword(value);
  if (Array.isArray(value)) return value.map(maskUrlPasswords);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskUrlPasswords(item)]));
  return value;
}

/** The effective configuration as YAML in the file layout, durations as Go strings, secrets masked. */
export function renderConfigYaml(config: AgentConfig): string {
  const tree = masked(config) as unknown as Tree;
  for (const path of DURATION_PATHS) {
    const keys = path.split('.');
    const ms = getAt(tree, keys);
    if (typeof ms === 'number') setAt(tree, keys, formatDuration(ms));
  }
  return stringify(tree, { lineWidth: 0 });
}

const FAMILY_SWITCHES = ['cpu', 'memory', 'disk', 'network', 'load', 'paging', 'filesystem', 'processes', 'system', 'pressure'] as const satisfies readonly (keyof SystemCollectorsConfig)[];

function describeExport(config: AgentConfig): string {
  const { telemetryflow: tf, exporter } = config;
  if (!exporter.otlp.enabled) return 'off (exporter.otlp.enabled: false)';
  const tls = tf.tls.enabled ? `TLS${tf.tls.skip_verify ? ' without verification' : ''}${tf.tls.cert_file ? ' + client certificate' : ''}` : 'plaintext';
  const http = tf.protocol === 'http' ? `, path ${exporter.otlp.metrics_endpoint || `/${exporter.otlp.endpoint_version}/metrics`}` : '';
  return `${maskUrlPassword(tf.endpoint)} (${tf.protocol}, ${tls}, ${exporter.otlp.compression}${http})`;
}

/** Where log records go (the collectd receiver's notifications); undefined while nothing makes any. */
function describeLogs(config: AgentConfig): string | undefined {
  if (!config.receivers.collectd.enabled || !config.exporter.otlp.enabled) return undefined;
  const view = logsExportConfig(config);
  const target = resolveExportTarget(config, 'logs');
  const where = target.protocol === 'grpc' ? maskUrlPassword(target.address) : maskUrlPassword(target.url);
  return `${where} (${target.protocol}, ${target.tls ? 'TLS' : 'plaintext'}, ${view.exporter.otlp.compression})`;
}

function describeCredentials(config: AgentConfig): string {
  const { api_key_id: id, api_key_secret: secret } = config.telemetryflow;
  if (id === '' && secret === '') return 'none';
  return `key id ${id || '(not set)'}, secret ${secret ? 'set' : 'not set'}`;
}

function describeCollectors(config: AgentConfig): string[] {
  const { system, process, logs } = config.collectors;
  const families = FAMILY_SWITCHES.filter((family) => system[family]);
  return [
    system.enabled ? `system every ${formatDuration(system.interval)} (${system.naming}): ${families.join(', ') || 'no families'}` : 'system: off',
    process.enabled ? `process every ${formatDuration(process.interval)}` : 'process: off',
    ...(logs.enabled ? ['logs: enabled but not implemented (ignored)'] : []),
  ];
}

function describeApi(config: AgentConfig): string {
  const { api } = config;
  if (!api.enabled) return 'off';
  const scheme = api.tls.cert_file ? 'https' : 'http';
  return `${scheme}://${api.address}, token ${api.token ? 'set' : 'none'}, every ${formatDuration(api.collect_interval)}, ${api.ring_size} in memory, CSV ${api.csv_dir} for ${api.retention_days} days${api.prometheus ? ', /metrics' : ''}`;
}

/** One screen for `config validate`: where data goes, what is collected, and every warning. */
export function summarizeConfig(loaded: LoadedConfig): string {
  const { config, warnings, file } = loaded;
  const { agent, buffer, heartbeat, health, logging } = config;
  const collectors = describeCollectors(config);
  const lines = [
    `config file:  ${file ?? 'none found (defaults and environment)'}`,
    `export:       ${describeExport(config)}`,
    ...[describeLogs(config)].filter((line) => line !== undefined).map((line) => `logs:         ${line}`),
    `credentials:  ${describeCredentials(config)}`,
    `agent:        ${agent.name}, id ${agent.id || 'derived per host at start'}`,
    `collectors:   ${collectors[0]}`,
    ...collectors.slice(1).map((line) => `              ${line}`),
    `buffer:       ${buffer.enabled ? `${buffer.path}, up to ${buffer.max_size_mb} MB, ${formatDuration(buffer.max_age)}` : 'off'}`,
    `heartbeat:    ${heartbeat.enabled && config.telemetryflow.backend_endpoint ? `every ${formatDuration(heartbeat.interval)} to ${maskUrlPassword(config.telemetryflow.backend_endpoint)}` : 'off (no telemetryflow.backend_endpoint)'}`,
    `health:       ${health.enabled ? `http://${health.address}/health` : 'off'}`,
    `local API:    ${describeApi(config)}`,
    `logging:      ${logging.level}, ${logging.format}, ${logging.file || 'stdout'}`,
    `host root:    ${config.host_root}`,
    warnings.length === 0 ? 'warnings:     none' : `warnings (${warnings.length}):`,
    ...warnings.map((warning) => `  - ${formatWarning(warning)}`),
  ];
  return lines.join('\n') + '\n';
}
