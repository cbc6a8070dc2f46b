import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ConfigMap, Secret, ServiceAccount } from 'kubernetes-models/v1';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { CLI, REPO_ROOT } from '../support/paths';
import { helmBinary } from '../support/tools';

const CHART = join(REPO_ROOT, 'deploy', 'helm', 'tfo-agent');
const helm = helmBinary() ?? 'helm';
const skip = helmBinary() ? false : 'helm is not installed (scripts/fetch-helm.sh unpacks it into .tools/); .ci/run fetches it';

type Manifest = { kind: string; apiVersion: string; metadata: { name: string; annotations?: Record<string, string> }; [k: string]: unknown };

function helmRun(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(helm, args, { encoding: 'utf8' });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function render(sets: string[] = []): Manifest[] {
  const r = helmRun(['template', 'tfo', CHART, '--namespace', 'observability', ...sets.flatMap((s) => ['--set', s])]);
  assert.equal(r.status, 0, r.stderr);
  return parseAllDocuments(r.stdout)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

// Each rendered object is checked against the Kubernetes API schema of its kind.
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  DaemonSet: DaemonSet as never,
  ConfigMap: ConfigMap as never,
  Secret: Secret as never,
  ServiceAccount: ServiceAccount as never,
};

function validateAll(manifests: Manifest[]): void {
  for (const m of manifests) {
    const Model = MODELS[m.kind];
    assert.ok(Model, `no schema for rendered kind ${m.kind}`);
    assert.doesNotThrow(() => new Model(m as never).validate(), `${m.kind}/${m.metadata.name} is not a valid Kubernetes object`);
  }
}

function daemonSet(manifests: Manifest[]): any {
  const ds = manifests.find((m) => m.kind === 'DaemonSet');
  assert.ok(ds, 'no DaemonSet rendered');
  return ds;
}

function agentContainer(manifests: Manifest[]): any {
  return daemonSet(manifests).spec.template.spec.containers.find((c: any) => c.name === 'tfo-agent');
}

function env(container: any, name: string): any {
  return container.env.find((e: any) => e.name === name);
}

const VALUE_SETS: Record<string, string[]> = {
  defaults: [],
  'no host network': ['hostNetwork=false', 'hostPID=false'],
  'existing secret': ['telemetryflow.apiKey.existingSecret=tfo-credentials'],
  'chart-made secret': ['telemetryflow.apiKey.id=tfk_example', 'telemetryflow.apiKey.secret=tfs_example'],
  'http protocol': ['telemetryflow.protocol=http', 'telemetryflow.endpoint=http://otel-collector:4318', 'exporter.endpointVersion=v1'],
  'extra tolerations': ['tolerations[0].key=dedicated', 'tolerations[0].operator=Equal', 'tolerations[0].value=gpu', 'tolerations[0].effect=NoSchedule'],
  'hostmetrics naming, process metrics': ['collectors.naming=hostmetrics', 'collectors.process.enabled=true', 'collectors.process.topN=20'],
};

test('helm lint passes with the default values and every value set', { skip }, () => {
  for (const [name, sets] of Object.entries(VALUE_SETS)) {
    const r = helmRun(['lint', CHART, ...sets.flatMap((s) => ['--set', s])]);
    assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
  }
});

test('every rendered manifest validates against the Kubernetes API schemas', { skip }, () => {
  for (const [name, sets] of Object.entries(VALUE_SETS)) {
    const manifests = render(sets);
    assert.ok(manifests.length >= 3, `${name}: rendered ${manifests.length} objects`);
    validateAll(manifests);
  }
});

test('the DaemonSet reports the node: host root, host PID and network, node name', { skip }, () => {
  const manifests = render();
  const ds = daemonSet(manifests);
  const pod = ds.spec.template.spec;
  const c = agentContainer(manifests);
  assert.equal(pod.hostPID, true);
  assert.equal(pod.hostNetwork, true);
  assert.equal(pod.dnsPolicy, 'ClusterFirstWithHostNet');
  const hostfs = c.volumeMounts.find((v: any) => v.mountPath === '/hostfs');
  assert.equal(hostfs.readOnly, true);
  assert.equal(pod.volumes.find((v: any) => v.name === hostfs.name).hostPath.path, '/');
  assert.equal(env(c, 'TELEMETRYFLOW_HOST_ROOT').value, '/hostfs');
  assert.equal(env(c, 'NODE_NAME').valueFrom.fieldRef.fieldPath, 'spec.nodeName');
  assert.equal(env(c, 'TELEMETRYFLOW_HOSTNAME').value, '$(NODE_NAME)');
  assert.equal(env(c, 'TELEMETRYFLOW_CONTAINER_IMAGE').value, c.image, 'the heartbeat reports the image the pod runs');
  assert.deepEqual(c.args, ['start', '--config', '/etc/tfo-agent/tfo-agent.yaml']);
});

test('the buffer lives on the node so restarts and upgrades keep the backlog', { skip }, () => {
  const manifests = render();
  const ds = daemonSet(manifests);
  const c = agentContainer(manifests);
  const mount = c.volumeMounts.find((v: any) => v.mountPath === '/var/lib/tfo-agent');
  const volume = ds.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
  assert.equal(volume.hostPath.path, '/var/lib/tfo-agent');
  assert.equal(volume.hostPath.type, 'DirectoryOrCreate');
  assert.equal(ds.spec.updateStrategy.rollingUpdate.maxUnavailable, 1);
  assert.ok(ds.spec.template.spec.terminationGracePeriodSeconds >= 30);
  const config = configFromConfigMap(manifests);
  assert.match(config, /path: \/var\/lib\/tfo-agent\/buffer/);
});

test('probes, security context and scheduling defaults', { skip }, () => {
  const manifests = render();
  const ds = daemonSet(manifests);
  const c = agentContainer(manifests);
  assert.equal(c.livenessProbe.httpGet.path, '/health');
  assert.equal(c.readinessProbe.httpGet.path, '/ready');
  assert.equal(c.ports.find((p: any) => p.name === c.livenessProbe.httpGet.port).containerPort, 13133);
  assert.match(configFromConfigMap(manifests), /address: 0\.0\.0\.0:13133/);
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
  assert.deepEqual(c.securityContext.capabilities.add, ['SYS_PTRACE', 'DAC_READ_SEARCH']);
  assert.ok(c.resources.limits.memory && c.resources.requests.cpu);
  assert.deepEqual(ds.spec.template.spec.tolerations, [{ operator: 'Exists' }]);
});

test('credentials come from a Secret, never from the ConfigMap', { skip }, () => {
  const made = render(['telemetryflow.apiKey.id=tfk_example', 'telemetryflow.apiKey.secret=tfs_topsecret']);
  const secret = made.find((m) => m.kind === 'Secret') as any;
  assert.equal(Buffer.from(secret.data['api-key-secret'], 'base64').toString(), 'tfs_topsecret');
  assert.doesNotMatch(JSON.stringify(made.filter((m) => m.kind !== 'Secret')), /tfs_topsecret/);
  assert.equal(env(agentContainer(made), 'TELEMETRYFLOW_API_KEY_SECRET').valueFrom.secretKeyRef.name, secret.metadata.name);

  const existing = render(['telemetryflow.apiKey.existingSecret=tfo-credentials']);
  assert.equal(existing.find((m) => m.kind === 'Secret'), undefined, 'no Secret is created when one is named');
  assert.equal(env(agentContainer(existing), 'TELEMETRYFLOW_API_KEY_ID').valueFrom.secretKeyRef.name, 'tfo-credentials');

  const none = render();
  assert.equal(env(agentContainer(none), 'TELEMETRYFLOW_API_KEY_ID'), undefined);
});

test('a config change changes the checksum annotation, so the pods roll', { skip }, () => {
  const a = daemonSet(render()).spec.template.metadata.annotations['checksum/config'];
  const b = daemonSet(render(['collectors.interval=30s'])).spec.template.metadata.annotations['checksum/config'];
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.notEqual(a, b);
});

test('turning host network off renders a pod-network DaemonSet', { skip }, () => {
  const pod = daemonSet(render(['hostNetwork=false'])).spec.template.spec;
  assert.equal(pod.hostNetwork, false);
  assert.equal(pod.dnsPolicy, 'ClusterFirst');
});

test('values.schema.json rejects wrong values with the path in the message', { skip }, () => {
  const cases: Array<[string, RegExp]> = [
    ['telemetryflow.protocol=udp', /telemetryflow\/protocol/],
    ['collectors.naming=prometheus', /collectors\/naming/],
    ['health.port=70000', /health\/port/],
    ['buffer.hostPath=relative/path', /buffer\/hostPath/],
    ['telemetryflow.backendEndpoint=tfo-backend:3100', /backendEndpoint/],
    ['unknownTopLevel=1', /unknownTopLevel/],
  ];
  for (const [set, where] of cases) {
    const r = helmRun(['template', 'tfo', CHART, '--set', set]);
    assert.notEqual(r.status, 0, `${set} was accepted`);
    assert.match(r.stderr, where, `${set}: ${r.stderr}`);
  }
  const interval = helmRun(['template', 'tfo', CHART, '--set-string', 'collectors.interval=5']);
  assert.notEqual(interval.status, 0, 'a duration without a unit was accepted');
});

function configFromConfigMap(manifests: Manifest[]): string {
  const cm = manifests.find((m) => m.kind === 'ConfigMap') as any;
  assert.ok(cm, 'no ConfigMap rendered');
  return cm.data['tfo-agent.yaml'];
}

test("the ConfigMap's config passes `tfo-agent config validate`", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfo-helm-'));
  for (const [name, sets] of Object.entries(VALUE_SETS)) {
    const file = join(dir, 'tfo-agent.yaml');
    writeFileSync(file, configFromConfigMap(render(sets)));
    const r = spawnSync(process.execPath, [CLI, 'config', 'validate', '--config', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
  }
});

test('per-CPU series follow the naming unless collectors.perCpu says', { skip }, () => {
  const cpuOptions = (sets: string[]): unknown => (parse(configFromConfigMap(render(sets))) as any).collectors.system.cpu_options;
  assert.deepEqual(cpuOptions(['collectors.naming=hostmetrics']), {}, 'unset: the agent resolves per CPU under hostmetrics');
  assert.deepEqual(cpuOptions([]), {});
  assert.deepEqual(cpuOptions(['collectors.naming=hostmetrics', 'collectors.perCpu=false']), { per_cpu: false });
});
