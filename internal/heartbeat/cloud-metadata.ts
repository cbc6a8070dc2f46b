import type { HeartbeatConfig } from '../config/types';
import { errorMessage, type Logger } from '../log/logger';
import { httpRequest } from './http';

// Instance facts only a cloud's metadata service knows (type, region, zone). These are real
// network destinations, so they are asked only when heartbeat.cloud_metadata.enabled is true,
// once per process: an instance does not change type or zone while it runs.

export type CloudProvider = 'aws' | 'gcp' | 'azure';

export interface CloudInstance {
  provider: CloudProvider;
  instanceId?: string;
  instanceType?: string;
  region?: string;
  zone?: string;
}

/** The link-local address all three providers answer on. Only used when the feature is on. */
export const DEFAULT_METADATA_BASE_URL = 'http://169.254.169.254';

const AZURE_API_VERSION = '2021-02-01';
// An IMDSv2 token only has to outlive the two requests that follow it.
const AWS_TOKEN_TTL_SECONDS = '60';

export class CloudMetadataError extends Error {
  constructor(readonly provider: CloudProvider, readonly url: string, message: string) {
    super(`${provider} metadata ${url}: ${message}`);
    this.name = 'CloudMetadataError';
  }
}

async function get(provider: CloudProvider, base: string, path: string, headers: Record<string, string>, timeoutMs: number, method: 'GET' | 'PUT' = 'GET'): Promise<string> {
  // Appended, not resolved: a base URL with a path (a proxy) keeps it.
  const url = new URL(base.replace(/\/+$/, '') + path);
  const reply = await httpRequest({ method, url, headers, signal: AbortSignal.timeout(timeoutMs) });
  if (reply.status < 200 || reply.status >= 300) throw new CloudMetadataError(provider, url.pathname, `HTTP ${reply.status}`);
  return reply.body.trim();
}

function parseJsonObject(provider: CloudProvider, path: string, text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    if (value !== null && typeof value === 'object') return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CloudMetadataError(provider, path, 'reply is not a JSON object');
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The last segment of GCP's `projects/123/zones/europe-west1-b` style values. */
const lastSegment = (value: string): string => value.slice(value.lastIndexOf('/') + 1);

async function fetchAws(base: string, timeoutMs: number): Promise<CloudInstance> {
  const token = await get('aws', base, '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': AWS_TOKEN_TTL_SECONDS }, timeoutMs, 'PUT');
  const path = '/latest/dynamic/instance-identity/document';
  const doc = parseJsonObject('aws', path, await get('aws', base, path, { 'X-aws-ec2-metadata-token': token }, timeoutMs));
  return { provider: 'aws', instanceId: str(doc.instanceId), instanceType: str(doc.instanceType), region: str(doc.region), zone: str(doc.availabilityZone) };
}

async function fetchGcp(base: string, timeoutMs: number): Promise<CloudInstance> {
  // The id is a 64-bit number: read it as text, never through JSON.parse.
  const headers = { 'Metadata-Flavor': 'Google' };
  const [id, machineType, zonePath] = await Promise.all(
    ['id', 'machine-type', 'zone'].map((leaf) => get('gcp', base, `/computeMetadata/v1/instance/${leaf}`, headers, timeoutMs)),
  );
  const zone = lastSegment(zonePath!);
  // A GCP zone is its region plus a letter: europe-west1-b is in europe-west1.
  const region = zone.includes('-') ? zone.slice(0, zone.lastIndexOf('-')) : undefined;
  return { provider: 'gcp', instanceId: str(id), instanceType: str(lastSegment(machineType!)), region, zone: str(zone) };
}

async function fetchAzure(base: string, timeoutMs: number): Promise<CloudInstance> {
  const path = `/metadata/instance/compute?api-version=${AZURE_API_VERSION}&format=json`;
  const doc = parseJsonObject('azure', path, await get('azure', base, path, { Metadata: 'true' }, timeoutMs));
  return { provider: 'azure', instanceId: str(doc.vmId), instanceType: str(doc.vmSize), region: str(doc.location), zone: str(doc.zone) };
}

const FETCHERS: Record<CloudProvider, (base: string, timeoutMs: number) => Promise<CloudInstance>> = {
  aws: fetchAws,
  gcp: fetchGcp,
  azure: fetchAzure,
};

/** Asks one provider's metadata service; rejects with CloudMetadataError or a network error. */
export function fetchCloudMetadata(provider: CloudProvider, baseUrl: string, timeoutMs: number): Promise<CloudInstance> {
  return FETCHERS[provider](baseUrl || DEFAULT_METADATA_BASE_URL, timeoutMs);
}

// Failed lookups are asked again after this long; successful ones never.
const FAILURE_RETRY_MS = 10 * 60_000;

const cache = new Map<string, { result: Promise<CloudInstance | undefined>; failedAt?: number }>();

/**
 * The instance facts for the heartbeat, or undefined when the feature is off, no provider applies,
 * or the service did not answer. `detected` is the provider DMI named; with provider `auto` only
 * that one is asked, so a machine DMI does not place on a cloud is never probed.
 */
export function lookupCloudMetadata(
  settings: HeartbeatConfig['cloud_metadata'],
  detected: string | undefined,
  logger: Logger,
  now: () => number = Date.now,
): Promise<CloudInstance | undefined> {
  if (!settings.enabled) return Promise.resolve(undefined);
  const provider = settings.provider === 'auto' ? detected : settings.provider;
  if (provider !== 'aws' && provider !== 'gcp' && provider !== 'azure') return Promise.resolve(undefined);
  const key = `${provider} ${settings.base_url}`;
  const cached = cache.get(key);
  if (cached && (cached.failedAt === undefined || now() - cached.failedAt < FAILURE_RETRY_MS)) return cached.result;
  const entry: { result: Promise<CloudInstance | undefined>; failedAt?: number } = { result: Promise.resolve(undefined) };
  entry.result = fetchCloudMetadata(provider, settings.base_url, settings.timeout).then(
    (instance) => {
      logger.info({ event: 'heartbeat.cloud_metadata', provider, region: instance.region, zone: instance.zone }, 'cloud metadata read');
      return instance;
    },
    (err: unknown) => {
      entry.failedAt = now();
      logger.warn({ event: 'heartbeat.cloud_metadata_failed', provider, err: errorMessage(err) }, 'cloud metadata lookup failed; asking again in 10 minutes');
      return undefined;
    },
  );
  cache.set(key, entry);
  return entry.result;
}
