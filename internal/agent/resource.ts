import { hostname as osHostname, release as osRelease } from 'node:os';
import type { Attributes } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { HostFs } from '../procfs/host';
import type { AgentConfig } from '../config/types';
import { VERSION, hostArch, osType } from '../version/version';
import { readMachineId } from '../procfs/machine-id';

/** What the resource says about the machine, read once at start through the host root. */
export interface HostFacts {
  /** The OS hostname of the machine the agent runs on. */
  hostname: string;
  /** /etc/machine-id (or the D-Bus copy) of the host; undefined when neither exists. */
  machineId?: string;
  /** os-release NAME, VERSION_ID and PRETTY_NAME of the host. */
  osName?: string;
  osVersion?: string;
  osPrettyName?: string;
  kernelRelease: string;
  platform: string;
  arch: string;
}

/** Parses os-release (`KEY=value` or `KEY="value"` lines). */
export function parseOsRelease(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    fields.set(match[1], match[2].replace(/^(["'])(.*)\1$/, '$2'));
  }
  return fields;
}

async function readOsRelease(host: HostFs): Promise<Map<string, string>> {
  const text = host.readOptional('/etc/os-release') ?? host.readOptional('/usr/lib/os-release');
  return text === undefined ? new Map() : parseOsRelease(text);
}

/**
 * Reads the host's identity through the host root, so that a DaemonSet pod describes its node
 * rather than its own container image.
 */
export async function readHostFacts(host: HostFs): Promise<HostFacts> {
  const osReleaseFields = await readOsRelease(host);
  return {
    hostname: osHostname(),
    // semconv's host.id for a machine outside a cloud is its machine id, as is.
    machineId: readMachineId(host),
    osName: osReleaseFields.get('NAME'),
    osVersion: osReleaseFields.get('VERSION_ID'),
    osPrettyName: osReleaseFields.get('PRETTY_NAME'),
    kernelRelease: osRelease(),
    platform: osType(),
    arch: hostArch(),
  };
}

/** The node name Kubernetes injects through the downward API; the pod name is not it. */
export function kubernetesNodeName(env: NodeJS.ProcessEnv): string | undefined {
  return env.NODE_NAME?.trim() || env.K8S_NODE_NAME?.trim() || undefined;
}

/** host.name: the configured name, else the Kubernetes node, else the OS hostname. */
export function hostName(config: AgentConfig, env: NodeJS.ProcessEnv, osHost: string = osHostname()): string {
  return config.agent.hostname || kubernetesNodeName(env) || osHost;
}

/**
 * The resource attributes of every export. Precedence, lowest first: agent tags, the agent's own
 * attributes, then `agent.resource_attributes` (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME), which
 * an operator sets precisely to override.
 */
export function resourceAttributes(config: AgentConfig, agentId: string, facts: HostFacts, env: NodeJS.ProcessEnv): Attributes {
  const { environment, ...otherTags } = config.agent.tags;
  const attributes: Attributes = {
    ...otherTags,
    'service.name': config.agent.name,
    'service.version': VERSION,
    'service.instance.id': agentId,
    'host.name': hostName(config, env, facts.hostname),
    'host.arch': facts.arch,
    'os.type': facts.platform,
    'os.description': [facts.osPrettyName, `${facts.platform === 'linux' ? 'Linux' : facts.platform} ${facts.kernelRelease}`]
      .filter((part) => part !== undefined)
      .join(' / '),
    'telemetryflow.agent.id': agentId,
    'telemetryflow.agent.name': config.agent.name,
  };
  if (facts.machineId !== undefined) attributes['host.id'] = facts.machineId;
  if (facts.osName !== undefined) attributes['os.name'] = facts.osName;
  if (facts.osVersion !== undefined) attributes['os.version'] = facts.osVersion;
  if (environment) attributes['deployment.environment.name'] = environment;
  const nodeName = kubernetesNodeName(env);
  if (nodeName !== undefined) attributes['k8s.node.name'] = nodeName;
  return { ...attributes, ...config.agent.resource_attributes };
}

/** The SDK's telemetry.sdk.* attributes under the agent's. */
export function buildResource(attributes: Attributes): Resource {
  return defaultResource().merge(resourceFromAttributes(attributes));
}
