import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostFs } from '../../internal/procfs/host';
import { defaultConfig } from '../../internal/config/defaults';
import { buildResource, kubernetesNodeName, parseOsRelease, readHostFacts, resourceAttributes, type HostFacts } from '../../internal/agent/resource';
import { changedSections } from '../../internal/agent/config-diff';
import { VERSION, hostArch, osType, userAgent } from '../../internal/version/version';

const root = mkdtempSync(join(tmpdir(), 'tfo-resource-'));
after(() => rmSync(root, { recursive: true, force: true }));

const facts: HostFacts = {
  hostname: 'node-7',
  machineId: '0123456789abcdef0123456789abcdef',
  osName: 'Debian GNU/Linux',
  osVersion: '12',
  osPrettyName: 'Debian GNU/Linux 12 (bookworm)',
  kernelRelease: '6.1.0-18-amd64',
  platform: 'linux',
  arch: 'amd64',
};

test('os-release: quoted and bare values, comments and junk ignored', () => {
  const fields = parseOsRelease('# comment\nNAME="Ubuntu"\nVERSION_ID=\'22.04\'\nID=ubuntu\ngarbage line\n\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\n');
  assert.equal(fields.get('NAME'), 'Ubuntu');
  assert.equal(fields.get('VERSION_ID'), '22.04');
  assert.equal(fields.get('ID'), 'ubuntu');
  assert.equal(fields.get('PRETTY_NAME'), 'Ubuntu 22.04.4 LTS');
  assert.equal(fields.size, 4);
  assert.equal(parseOsRelease('').size, 0);
});

test('host facts come from the host root: machine id and os-release of the host, not of this machine', async () => {
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc', 'machine-id'), 'FEDCBA9876543210FEDCBA9876543210\n');
  writeFileSync(join(root, 'etc', 'os-release'), 'NAME="Alpine Linux"\nVERSION_ID=3.20.1\nPRETTY_NAME="Alpine Linux v3.20"\n');
  const read = await readHostFacts(new HostFs(root));
  assert.equal(read.machineId, 'fedcba9876543210fedcba9876543210');
  assert.equal(read.osName, 'Alpine Linux');
  assert.equal(read.osVersion, '3.20.1');
  assert.equal(read.arch, hostArch());

  const empty = mkdtempSync(join(root, 'empty-'));
  const none = await readHostFacts(new HostFs(empty));
  assert.equal(none.machineId, undefined);
  assert.equal(none.osName, undefined);
});

test('resource: identity, host, OS, environment and tags', () => {
  const config = defaultConfig();
  config.agent.name = 'edge agent';
  config.agent.tags = { environment: 'staging', team: 'sre' };
  const attrs = resourceAttributes(config, 'id-42', facts, {});
  assert.deepEqual(attrs, {
    team: 'sre',
    'service.name': 'edge agent',
    'service.version': VERSION,
    'service.instance.id': 'id-42',
    'host.name': 'node-7',
    'host.id': '0123456789abcdef0123456789abcdef',
    'host.arch': 'amd64',
    'os.type': 'linux',
    'os.name': 'Debian GNU/Linux',
    'os.version': '12',
    'os.description': 'Debian GNU/Linux 12 (bookworm) / Linux 6.1.0-18-amd64',
    'telemetryflow.agent.id': 'id-42',
    'telemetryflow.agent.name': 'edge agent',
    'deployment.environment.name': 'staging',
  });
});

test('resource: in Kubernetes the node name is host.name and k8s.node.name; agent.hostname wins over both', () => {
  const config = defaultConfig();
  const inPod = resourceAttributes(config, 'x', facts, { NODE_NAME: 'worker-3' });
  assert.equal(inPod['host.name'], 'worker-3');
  assert.equal(inPod['k8s.node.name'], 'worker-3');
  assert.equal(kubernetesNodeName({ K8S_NODE_NAME: 'worker-4' }), 'worker-4');
  assert.equal(kubernetesNodeName({ NODE_NAME: '  ' }), undefined);

  config.agent.hostname = 'pinned';
  assert.equal(resourceAttributes(config, 'x', facts, { NODE_NAME: 'worker-3' })['host.name'], 'pinned');
  assert.equal('k8s.node.name' in resourceAttributes(config, 'x', facts, {}), false);
});

test('resource: agent.resource_attributes (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME) override; tags do not', () => {
  const config = defaultConfig();
  config.agent.tags = { environment: 'prod', 'service.name': 'from-a-tag' };
  config.agent.resource_attributes = { 'service.name': 'checkout-hosts', 'cloud.region': 'eu-west-1' };
  const attrs = resourceAttributes(config, 'x', { ...facts, machineId: undefined }, {});
  assert.equal(attrs['service.name'], 'checkout-hosts');
  assert.equal(attrs['cloud.region'], 'eu-west-1');
  assert.equal('host.id' in attrs, false, 'no host.id without a machine id');

  config.agent.resource_attributes = {};
  assert.equal(resourceAttributes(config, 'x', facts, {})['service.name'], config.agent.name);
});

test('resource: the SDK attributes sit under the agent ones', () => {
  const resource = buildResource({ 'service.name': 'mine' });
  assert.equal(resource.attributes['service.name'], 'mine');
  assert.equal(resource.attributes['telemetry.sdk.language'], 'nodejs');
});

test('version: Go-style arch names and the user agent', () => {
  assert.equal(hostArch('x64'), 'amd64');
  assert.equal(hostArch('arm64'), 'arm64');
  assert.equal(hostArch('riscv64'), 'riscv64');
  assert.equal(osType('win32'), 'windows');
  assert.equal(osType('linux'), 'linux');
  assert.match(userAgent(), /^tfo-agent\/\d+\.\d+\.\d+\S* \(linux; \w+\)$/);
});

test('reload diff names the changed sections, never their values', () => {
  const before = defaultConfig();
  const after = defaultConfig();
  assert.deepEqual(changedSections(before, after), []);
  after.telemetryflow.api_key_secret = 'tfs_new_secret';
  after.collectors.system.interval = 5000;
  after.host_root = '/hostfs';
  const changed = changedSections(before, after);
  assert.deepEqual(changed.sort(), ['collectors.system', 'host_root', 'telemetryflow.api_key_secret']);
  assert.ok(!changed.join(' ').includes('tfs_new_secret'));
});
