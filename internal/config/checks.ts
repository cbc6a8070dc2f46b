// Checks the schema cannot express: relations between keys, files that must exist, address forms,
// and warnings for values that are legal but probably not what the operator meant.

import { X509Certificate } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { patternProblems } from '../collector/match';
import { metricSwitchProblems } from '../collector/registry';
import { checkHeaders, HeaderError } from '../exporter/headers';
import type { ConfigProblem, ConfigWarning } from './errors';
import { formatDuration } from './duration';
import { DURATION_PATHS } from './schema';
import { getAt, type Tree } from './tree';
import type { AgentConfig } from './types';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export interface HostPort {
  host: string;
  port: number;
}

/** `host:port`, `[v6]:port`; undefined when the text is not that. */
export function parseHostPort(text: string): HostPort | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:/\s[\]]+):(\d{1,5})$/.exec(text);
  if (match === null) return undefined;
  const port = Number(match[2]);
  return port <= 65535 ? { host: match[1], port } : undefined;
}

/**
 * The socket path of a `unix:` endpoint (`unix:/run/otel.sock`, `unix:///run/otel.sock`, or
 * `unix:relative.sock` from the working directory), as gRPC names them; undefined for others.
 */
export function parseUnixEndpoint(text: string): string | undefined {
  const match = /^unix:(?:\/\/(?=\/))?(.+)$/i.exec(text.trim());
  return match ? match[1] : undefined;
}

/** The host part of an endpoint written as a URL or as host:port. */
function endpointHost(endpoint: string): string | undefined {
  if (endpoint.includes('://')) {
    try {
      return new URL(endpoint).hostname;
    } catch {
      return undefined;
    }
  }
  return parseHostPort(endpoint)?.host;
}

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\./.test(host);
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** `http://` or `https://` in the endpoint decides TLS; anything else leaves tls.enabled alone. */
export function schemeTls(endpoint: string): boolean | undefined {
  if (/^https:\/\//i.test(endpoint)) return true;
  if (/^http:\/\//i.test(endpoint)) return false;
  return undefined;
}

interface CheckContext {
  cwd: string;
  problems: ConfigProblem[];
  warnings: ConfigWarning[];
}

function isReadable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** The file's content when it is set and readable; otherwise undefined (and a problem when set). */
function readableFile(path: string, file: string, context: CheckContext): Buffer | undefined {
  if (file === '') return undefined;
  const full = isAbsolute(file) ? file : resolve(context.cwd, file);
  try {
    if (!statSync(full).isFile()) throw new Error('not a regular file');
    return readFileSync(full);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    context.problems.push({ path, value: file, message: `must be a readable file (${reason})` });
    return undefined;
  }
}

/**
 * What the files hold, checked as the transport will use them: a CA file that is not a
 * certificate, or a cert and key that do not load together, would otherwise pass here and then
 * fail every export (HTTP) or the start (gRPC) with a bare OpenSSL message.
 */
function checkTlsContent(section: string, tls: TlsFiles, ca: Buffer | undefined, cert: Buffer | undefined, key: Buffer | undefined, { problems }: CheckContext): void {
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch (error) {
      problems.push({ path: `${section}.ca_file`, value: tls.ca_file, message: `must hold a PEM certificate (${(error as Error).message})` });
    }
  }
  if (cert !== undefined && key !== undefined) {
    try {
      createSecureContext({ cert, key });
    } catch (error) {
      problems.push({ path: `${section}.cert_file`, value: tls.cert_file, message: `and key_file must hold a PEM certificate and its private key (${(error as Error).message})` });
    }
  }
}

type TlsFiles = Pick<AgentConfig['telemetryflow']['tls'], 'ca_file' | 'cert_file' | 'key_file'>;

/** The files of one `tls:` section: a certificate with its key (`what` it is), each readable; their content when `used`. */
function checkTlsFiles(section: string, tls: TlsFiles, used: boolean, context: CheckContext, what = 'client certificate for mTLS'): void {
  if ((tls.cert_file === '') !== (tls.key_file === '')) {
    const missing = tls.cert_file === '' ? 'cert_file' : 'key_file';
    context.problems.push({ path: `${section}.${missing}`, message: `cert_file and key_file must be set together (${what})` });
  }
  const ca = readableFile(`${section}.ca_file`, tls.ca_file, context);
  const cert = readableFile(`${section}.cert_file`, tls.cert_file, context);
  const key = readableFile(`${section}.key_file`, tls.key_file, context);
  if (used) checkTlsContent(section, tls, ca, cert, key, context);
}

function checkEndpoints(config: AgentConfig, { problems }: CheckContext): void {
  const { endpoint, backend_endpoint: backend, protocol } = config.telemetryflow;
  const expected = protocol === 'http' ? 'a URL such as "http://collector:4318", host:port or unix:/path/to.sock' : 'host:port such as "localhost:4317", a URL or unix:/path/to.sock';
  if (config.exporter.otlp.enabled && !(isHttpUrl(endpoint) || parseHostPort(endpoint) !== undefined || parseUnixEndpoint(endpoint) !== undefined)) {
    problems.push({ path: 'telemetryflow.endpoint', value: endpoint, message: `must be ${expected} (protocol ${protocol})` });
  }
  if (backend !== '' && !isHttpUrl(backend)) {
    problems.push({ path: 'telemetryflow.backend_endpoint', value: backend, message: 'must be an http:// or https:// URL, e.g. "http://tfo-backend:3100/api/v2"' });
  }
  const metrics = config.exporter.otlp.metrics_endpoint;
  if (metrics !== '' && !metrics.startsWith('/') && !isHttpUrl(metrics)) {
    problems.push({ path: 'exporter.otlp.metrics_endpoint', value: metrics, message: 'must be a path such as "/v1/metrics" or an http(s) URL' });
  }
  const logs = config.exporter.otlp.logs;
  const logsProtocol = logs.protocol || protocol;
  const endpointForm = isHttpUrl(logs.endpoint) || parseHostPort(logs.endpoint) !== undefined || parseUnixEndpoint(logs.endpoint) !== undefined;
  if (logs.endpoint !== '' && !endpointForm && !(logsProtocol === 'http' && logs.endpoint.startsWith('/'))) {
    const forms = logsProtocol === 'http' ? 'a path such as "/v1/logs", an http(s) URL (used as is), host:port or unix:/path/to.sock' : 'host:port such as "localhost:4317", a URL or unix:/path/to.sock';
    problems.push({ path: 'exporter.otlp.logs.endpoint', value: logs.endpoint, message: `must be ${forms} (protocol ${logsProtocol})` });
  }
}

/**
 * Extra export headers HTTP cannot carry: found here, so that `config validate` reports them and
 * start exits 2, rather than the exporter refusing them at start. Never quotes the value.
 */
function checkExportHeaders(config: AgentConfig, { problems }: CheckContext): void {
  const sets = [['exporter.otlp.headers', config.exporter.otlp.headers], ['exporter.otlp.logs.headers', config.exporter.otlp.logs.headers]] as const;
  for (const [section, headers] of sets) {
    for (const [name, value] of Object.entries(headers)) {
      try {
        checkHeaders({ [name]: value });
      } catch (error) {
        if (!(error instanceof HeaderError)) throw error;
        problems.push({ path: `${section}.${name}`, message: `cannot be sent: ${error.reason}` });
      }
    }
  }
}

function checkTls(config: AgentConfig, context: CheckContext): void {
  const tls = config.telemetryflow.tls;
  checkTlsFiles('telemetryflow.tls', tls, tls.enabled, context);
  // The logs' own files are used when their connection is TLS: by its scheme, else tls.enabled.
  const logsTls = schemeTls(config.exporter.otlp.logs.endpoint) ?? tls.enabled;
  checkTlsFiles('exporter.otlp.logs.tls', config.exporter.otlp.logs.tls, logsTls, context);
  if (tls.enabled && tls.skip_verify) {
    context.warnings.push({ path: 'telemetryflow.tls.skip_verify', message: 'the collector certificate is not verified; anyone on the path can read the credentials' });
  }
  if (!tls.enabled && (tls.ca_file !== '' || tls.cert_file !== '')) {
    context.warnings.push({ path: 'telemetryflow.tls', message: 'ca_file/cert_file are set but tls.enabled is false, so they are not used' });
  }
}

function checkCredentials(config: AgentConfig, { warnings }: CheckContext): void {
  const { api_key_id: id, api_key_secret: secret, endpoint, tls } = config.telemetryflow;
  if ((id === '') !== (secret === '')) {
    warnings.push({
      path: id === '' ? 'telemetryflow.api_key_id' : 'telemetryflow.api_key_secret',
      message: 'only one of api_key_id and api_key_secret is set; a TelemetryFlow collector will reject the exports',
    });
  }
  const host = endpointHost(endpoint);
  if (secret !== '' && !tls.enabled && host !== undefined && !isLoopbackHost(host)) {
    warnings.push({ path: 'telemetryflow.tls.enabled', message: `credentials are sent in plain text to ${host}; enable TLS` });
  }
  // Log records carry the same credentials, to their own endpoint when one is set.
  const logs = config.exporter.otlp.logs.endpoint;
  const logsHost = endpointHost(logs);
  if (secret !== '' && !(schemeTls(logs) ?? tls.enabled) && logsHost !== undefined && !isLoopbackHost(logsHost)) {
    warnings.push({ path: 'exporter.otlp.logs.endpoint', message: `credentials are sent in plain text to ${logsHost}; use https:// or enable TLS` });
  }
}

function checkTimings(config: AgentConfig, { problems, warnings }: CheckContext): void {
  const { heartbeat, telemetryflow, collectors } = config;
  if (heartbeat.interval < 1000) {
    problems.push({ path: 'heartbeat.interval', value: formatDuration(heartbeat.interval), message: 'must be at least "1s"' });
  } else if (heartbeat.timeout > heartbeat.interval) {
    warnings.push({ path: 'heartbeat.timeout', message: `is longer than heartbeat.interval (${formatDuration(heartbeat.interval)}); heartbeats will overlap` });
  }
  if (collectors.system.interval < 1000) {
    warnings.push({ path: 'collectors.system.interval', message: `${formatDuration(collectors.system.interval)} is very short; collection cost grows accordingly` });
  }
  if (telemetryflow.retry.max_interval < telemetryflow.retry.initial_interval) {
    warnings.push({ path: 'telemetryflow.retry.max_interval', message: 'is shorter than retry.initial_interval; every retry waits max_interval' });
  }
}

// A Node.js timer holds at most 2^31-1 ms (24.8 days); a longer delay fires after 1 ms, so an
// interval of "999h" would export in a tight loop. 596h is the whole hour below that.
const MAX_TIMER_MS = 596 * 3_600_000;
// Compared with timestamps, never handed to a timer: these may be longer.
const UNTIMED_DURATIONS = new Set(['buffer.max_age']);
// Zero would fail every export, stop with exit 1 at once, collect (or replay, or retry) in a loop,
// evict every spilled batch at the next upkeep, skip every mount or fail every metadata lookup.
const POSITIVE_DURATIONS = [
  'telemetryflow.timeout',
  'agent.shutdown_timeout',
  'heartbeat.timeout',
  'heartbeat.cloud_metadata.timeout',
  'collectors.system.interval',
  'collectors.system.filesystem_options.statfs_timeout',
  'exporter.otlp.keepalive.timeout',
  'buffer.flush_interval',
  'buffer.max_age',
  'telemetryflow.retry.initial_interval',
];

function checkDurationRanges(config: AgentConfig, { problems }: CheckContext): void {
  const tree = config as unknown as Tree;
  for (const path of DURATION_PATHS) {
    const ms = getAt(tree, path.split('.'));
    if (typeof ms !== 'number') continue;
    if (ms > MAX_TIMER_MS && !UNTIMED_DURATIONS.has(path)) {
      problems.push({ path, value: formatDuration(ms), message: `must be at most "${formatDuration(MAX_TIMER_MS)}"` });
    } else if (ms === 0 && POSITIVE_DURATIONS.includes(path)) {
      problems.push({ path, value: formatDuration(ms), message: 'must be longer than "0s"' });
    }
  }
}

function checkHostRoot(config: AgentConfig, { problems, warnings, cwd }: CheckContext): void {
  const root = isAbsolute(config.host_root) ? config.host_root : resolve(cwd, config.host_root);
  try {
    if (!statSync(root).isDirectory()) throw new Error('not a directory');
    accessSync(root, constants.R_OK | constants.X_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    problems.push({ path: 'host_root', value: config.host_root, message: `must be a readable directory holding the host's /proc and /sys (${reason})` });
    return;
  }
  // The systeminformation fallback reads this process's own /proc: inside a container that is
  // the container, not the host someone meant to mount at host_root.
  if (process.platform === 'linux' && config.collectors.system.backend === 'auto' && root !== '/' && !isReadable(join(root, 'proc', 'stat'))) {
    warnings.push({
      path: 'host_root',
      message: `${root} has no readable proc/stat, so metrics come from this process's own view (systeminformation), not from the host at ${root}: mount the host's / there, or set collectors.system.backend`,
    });
  }
}

function checkLocal(config: AgentConfig, { problems, warnings, cwd }: CheckContext): void {
  if (parseHostPort(config.health.address) === undefined) {
    problems.push({ path: 'health.address', value: config.health.address, message: 'must be host:port, e.g. "127.0.0.1:13133"' });
  }
  checkHostRoot(config, { problems, warnings, cwd });
  if (config.collectors.logs.enabled) {
    warnings.push({ path: 'collectors.logs', message: 'log collection is not implemented yet; collectors.logs is ignored' });
  }
}

// A sampler faster than this costs more than the samples are worth.
const MIN_API_COLLECT_INTERVAL_MS = 100;

/**
 * The local query API: an address that is host:port, a token wherever the port is reachable
 * from elsewhere, and certificate files that load together.
 */
function checkApi(config: AgentConfig, context: CheckContext): void {
  const { api } = config;
  if (!api.enabled) return;
  const { problems, warnings } = context;
  const address = parseHostPort(api.address);
  if (address === undefined) {
    problems.push({ path: 'api.address', value: api.address, message: 'must be host:port, e.g. "127.0.0.1:8443"' });
  } else if (!isLoopbackHost(address.host)) {
    if (api.token === '') {
      problems.push({ path: 'api.token', message: `must be set (or TFO_AGENT_API_TOKEN) when api.address ${api.address} is not a loopback address: anyone who can reach the port could read this host's data` });
    } else if (api.tls.cert_file === '') {
      warnings.push({ path: 'api.tls', message: `api.address ${api.address} is not loopback and TLS is off: the token and the answers cross the network in plain text; set api.tls.cert_file and api.tls.key_file` });
    }
  }
  checkTlsFiles('api.tls', { ca_file: '', ...api.tls }, true, context, "the listener's certificate");
  if (api.collect_interval < MIN_API_COLLECT_INTERVAL_MS) {
    problems.push({ path: 'api.collect_interval', value: formatDuration(api.collect_interval), message: `must be at least "${formatDuration(MIN_API_COLLECT_INTERVAL_MS)}"` });
  }
}

/** The collectd receiver: listen addresses it can parse, and an auth file for the levels that need one. */
function checkCollectdReceiver(config: AgentConfig, context: CheckContext): void {
  const collectd = config.receivers.collectd;
  if (!collectd.enabled) return;
  const { problems } = context;
  if (collectd.listen.length === 0) problems.push({ path: 'receivers.collectd.listen', message: 'must name at least one address, e.g. "127.0.0.1:25826"' });
  collectd.listen.forEach((address, i) => {
    if (!LISTEN_ADDRESS.test(address)) problems.push({ path: `receivers.collectd.listen[${i}]`, value: address, message: 'must be host:port or [ipv6]:port, e.g. "0.0.0.0:25826", "[ff18::efc0:4a42%eth0]:25826"' });
  });
  if (collectd.security_level !== 'none' && collectd.auth_file === '') {
    problems.push({ path: 'receivers.collectd.auth_file', message: `must be set when security_level is "${collectd.security_level}": signatures and encryption are checked against its passwords` });
  }
  readableFile('receivers.collectd.auth_file', collectd.auth_file, context);
  collectd.types_db.forEach((file, i) => readableFile(`receivers.collectd.types_db[${i}]`, file, context));
}

const LISTEN_ADDRESS = /^(\[[^\]]+\]|[^:[\]]+)(:\d{1,5})?$/;

// collectd's char[128] host field: 127 bytes and its NUL.
const MAX_COLLECTD_NAME_BYTES = 127;

/** The collectd exporter: a server it can send to, credentials for the levels that need them. */
function checkCollectdExporter(config: AgentConfig, { problems, warnings }: CheckContext): void {
  const collectd = config.exporters.collectd;
  if (!collectd.enabled) return;
  if (collectd.server === '') {
    problems.push({ path: 'exporters.collectd.server', message: 'must be set when the collectd exporter is enabled, e.g. "collectd.example.net:25826", "239.192.74.66:25826"' });
  } else if (!LISTEN_ADDRESS.test(collectd.server)) {
    problems.push({ path: 'exporters.collectd.server', value: collectd.server, message: 'must be host:port or [ipv6]:port, e.g. "10.0.0.5:25826", "[ff18::efc0:4a42%eth0]:25826"' });
  }
  if (collectd.security_level !== 'none') {
    for (const key of ['username', 'password'] as const) {
      if (collectd[key] === '') problems.push({ path: `exporters.collectd.${key}`, message: `must be set when security_level is "${collectd.security_level}"${key === 'password' ? ' (or TFO_AGENT_COLLECTD_PASSWORD)' : ''}` });
    }
  } else if (collectd.password !== '') {
    warnings.push({ path: 'exporters.collectd.password', message: 'is set but security_level is "none", so packets are neither signed nor encrypted' });
  }
  if (Buffer.byteLength(collectd.hostname) > MAX_COLLECTD_NAME_BYTES) {
    problems.push({ path: 'exporters.collectd.hostname', value: collectd.hostname, message: `must be at most ${MAX_COLLECTD_NAME_BYTES} bytes (collectd drops longer names)` });
  }
  if (!config.exporter.otlp.enabled) {
    problems.push({ path: 'exporters.collectd.enabled', value: true, message: 'needs exporter.otlp.enabled: the collectd exporter sends what the OTLP export collects' });
  }
}

/** Adds the problems and warnings of a merged, schema-valid configuration. */
export function checkConfig(config: AgentConfig, cwd: string, problems: ConfigProblem[], warnings: ConfigWarning[]): void {
  const context = { cwd, problems, warnings };
  checkEndpoints(config, context);
  checkExportHeaders(config, context);
  checkTls(config, context);
  checkCredentials(config, context);
  checkTimings(config, context);
  checkDurationRanges(config, context);
  checkLocal(config, context);
  checkApi(config, context);
  checkCollectdReceiver(config, context);
  checkCollectdExporter(config, context);
  // The collectors own the syntax of their filters; a bad pattern fails validation here rather
  // than stopping one family at start.
  problems.push(...patternProblems(config));
  problems.push(...metricSwitchProblems(config));
}
