import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { HostFs } from '../../internal/procfs/host';
import { classifyMachine, detectContainer, detectMachine, parseCgroupContainer, parseContainerenv } from '../../internal/heartbeat/detect';
import { FIXTURES } from '../support/paths';

const root = (name: string): HostFs => new HostFs(join(FIXTURES, 'heartbeat', name));
const DOCKER_ID = '3f4d6b7c2a1e9f8d7c6b5a4938271605f4e3d2c1b0a9f8e7d6c5b4a392817060';
const CONTAINERD_ID = '9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9';
const POD_CONTAINER_ID = 'c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc';

describe('container detection on fake roots', () => {
  it('docker with cgroup v1: runtime and id from the cgroup paths', async () => {
    assert.deepEqual(await detectContainer(root('docker-cgroup-v1'), {}), { isContainer: true, containerRuntime: 'docker', containerId: DOCKER_ID });
  });

  it('containerd with cgroup v2 and a private cgroup namespace: the id from the mount sources', async () => {
    assert.deepEqual(await detectContainer(root('containerd-cgroup-v2'), {}), { isContainer: true, containerRuntime: 'containerd', containerId: CONTAINERD_ID });
  });

  it('containerd with cgroup v2 in the host cgroup namespace: the id from the path', async () => {
    assert.deepEqual(await detectContainer(root('containerd-cgroup-v2-host-ns'), {}), { isContainer: true, containerRuntime: 'containerd', containerId: CONTAINERD_ID });
  });

  it('a Kubernetes pod: kubernetes wins over the engine, the pod name from HOSTNAME', async () => {
    const env = JSON.parse(readFileSync(join(FIXTURES, 'heartbeat', 'kubernetes-pod', 'env.json'), 'utf8')) as NodeJS.ProcessEnv;
    assert.deepEqual(await detectContainer(root('kubernetes-pod'), env), {
      isContainer: true,
      containerRuntime: 'kubernetes',
      containerId: POD_CONTAINER_ID,
      containerName: 'tfo-agent-7x2kq',
    });
  });

  it('a Kubernetes pod seen through kubepods cgroup paths alone (no service env)', async () => {
    const info = await detectContainer(root('kubernetes-pod-cgroup-v1'), {});
    assert.equal(info.containerRuntime, 'kubernetes');
    assert.equal(info.containerId, POD_CONTAINER_ID);
    assert.equal(info.containerName, undefined, 'HOSTNAME is only trusted as a pod name inside Kubernetes');
  });

  it('podman: name, id and image from /run/.containerenv', async () => {
    assert.deepEqual(await detectContainer(root('podman'), {}), {
      isContainer: true,
      containerRuntime: 'podman',
      containerId: '7e1f2d3c4b5a69788796a5b4c3d2e1f07e1f2d3c4b5a69788796a5b4c3d2e1f0',
      containerName: 'tfo-agent',
      containerImage: 'ghcr.io/telemetryflow/tfo-agent:0.1.0',
    });
  });

  it('a bare host is no container, whatever HOSTNAME says', async () => {
    assert.deepEqual(await detectContainer(root('bare-host'), { HOSTNAME: 'web-1' }), { isContainer: false });
  });

  it('an image named by the deployment (TELEMETRYFLOW_CONTAINER_IMAGE) is reported', async () => {
    const info = await detectContainer(root('docker-cgroup-v1'), { TELEMETRYFLOW_CONTAINER_IMAGE: 'tfo-agent:0.1.0' });
    assert.equal(info.containerImage, 'tfo-agent:0.1.0');
  });

  it('cri-o and podman scopes in cgroup v2 paths', () => {
    const id = 'ab'.repeat(32);
    assert.deepEqual(parseCgroupContainer(`0::/kubepods.slice/kubepods-pod1.slice/crio-${id}.scope\n`), { runtime: 'cri-o', id });
    assert.deepEqual(parseCgroupContainer(`0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${id}.scope/container\n`), { runtime: 'podman', id });
    assert.deepEqual(parseCgroupContainer(`0::/system.slice/docker-${id}.scope\n`), { runtime: 'docker', id });
    assert.equal(parseCgroupContainer('0::/\n'), undefined);
    assert.equal(parseCgroupContainer(''), undefined);
    assert.equal(parseCgroupContainer('garbage without colons\n\x00\x01'), undefined);
  });

  it('parses .containerenv leniently', () => {
    assert.deepEqual(parseContainerenv('engine="podman-4.9.3"\nname="x"\nbroken line\nimage=""\n'), { engine: 'podman-4.9.3', name: 'x' });
  });
});

describe('virtualization and cloud detection from DMI on fake roots', () => {
  it('KVM (QEMU DMI, SeaBIOS)', async () => {
    assert.deepEqual(await detectMachine(root('kvm')), { isVirtualized: true, virtualizationType: 'kvm' });
  });

  it('VMware', async () => {
    assert.deepEqual(await detectMachine(root('vmware')), { isVirtualized: true, virtualizationType: 'vmware' });
  });

  it('AWS EC2 (Nitro): provider, instance id and type without any network request', async () => {
    assert.deepEqual(await detectMachine(root('aws')), {
      isVirtualized: true,
      virtualizationType: 'kvm',
      cloudProvider: 'aws',
      cloudInstanceId: 'i-0a1b2c3d4e5f60718',
      cloudInstanceType: 'm6i.large',
    });
  });

  it('Google Compute Engine', async () => {
    assert.deepEqual(await detectMachine(root('gcp')), { isVirtualized: true, virtualizationType: 'kvm', cloudProvider: 'gcp' });
  });

  it('Azure needs the Azure chassis asset tag; plain Hyper-V has none', async () => {
    assert.deepEqual(await detectMachine(root('azure')), { isVirtualized: true, virtualizationType: 'hyper-v', cloudProvider: 'azure' });
    assert.deepEqual(await detectMachine(root('hyperv')), { isVirtualized: true, virtualizationType: 'hyper-v' });
  });

  it('Xen from /sys/hypervisor/type', async () => {
    assert.deepEqual(await detectMachine(root('xen')), { isVirtualized: true, virtualizationType: 'xen' });
  });

  it('a physical server is not virtualized', async () => {
    assert.deepEqual(await detectMachine(root('physical'), 'processor\t: 0\nflags\t\t: fpu vme de pse tsc msr\n'), { isVirtualized: false });
  });

  it('the hypervisor CPU flag alone says virtual, of an unknown type', () => {
    const cpuinfo = 'processor\t: 0\nflags\t\t: fpu vme de pse tsc msr hypervisor lahf_lm\n';
    assert.deepEqual(classifyMachine({ dmi: {}, cpuinfo }), { isVirtualized: true });
  });
});
