import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The three cloud metadata services on loopback, each enforcing the header its real counterpart
 * requires (an IMDSv2 session token for AWS, `Metadata-Flavor: Google`, `Metadata: true` plus an
 * api-version for Azure) and answering with one fixed instance.
 */

export interface FakeInstance {
  id: string;
  type: string;
  region: string;
  zone: string;
}

export interface FakeCloudMetadata {
  readonly baseUrl: string;
  readonly requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders; status: number }>;
  close(): Promise<void>;
}

const AWS_TOKEN = 'AQAEAFakeImdsV2Token==';

export async function startFakeCloudMetadata(instance: FakeInstance): Promise<FakeCloudMetadata> {
  const requests: FakeCloudMetadata['requests'] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://metadata');
    const send = (status: number, body: string, type = 'text/plain'): void => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, status });
      res.writeHead(status, { 'Content-Type': type });
      res.end(body);
    };
    // AWS IMDSv2: a PUT for a session token, then GETs carrying it.
    if (url.pathname === '/latest/api/token') {
      if (req.method !== 'PUT' || !req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return send(400, 'token request must be a PUT with a TTL');
      return send(200, AWS_TOKEN);
    }
    if (url.pathname === '/latest/dynamic/instance-identity/document') {
      if (req.headers['x-aws-ec2-metadata-token'] !== AWS_TOKEN) return send(401, 'missing or wrong IMDSv2 token');
      const doc = { instanceId: instance.id, instanceType: instance.type, region: instance.region, availabilityZone: instance.zone, accountId: '123456789012' };
      return send(200, JSON.stringify(doc), 'application/json');
    }
    // GCP: every request needs Metadata-Flavor: Google.
    const gcp = /^\/computeMetadata\/v1\/instance\/(id|machine-type|zone)$/.exec(url.pathname);
    if (gcp) {
      if (req.headers['metadata-flavor'] !== 'Google') return send(403, 'Missing Metadata-Flavor:Google header');
      const values: Record<string, string> = { id: instance.id, 'machine-type': `projects/123456/machineTypes/${instance.type}`, zone: `projects/123456/zones/${instance.zone}` };
      return send(200, values[gcp[1]!]!);
    }
    // Azure IMDS: Metadata: true and an api-version.
    if (url.pathname === '/metadata/instance/compute') {
      if (req.headers.metadata !== 'true') return send(400, JSON.stringify({ error: 'Bad request. Required metadata header not specified' }), 'application/json');
      if (!url.searchParams.get('api-version')) return send(400, JSON.stringify({ error: 'Bad request. api-version was not specified' }), 'application/json');
      const doc = { vmId: instance.id, vmSize: instance.type, location: instance.region, zone: instance.zone, osType: 'Linux' };
      return send(200, JSON.stringify(doc), 'application/json');
    }
    return send(404, 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
