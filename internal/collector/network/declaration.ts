import type { SystemCollectorsConfig } from '../../config/types';
import { TCP_STATE_NAMES } from '../../procfs/tcp';
import { ON, type AttributeDecl, type Family, type Metrics } from '../declaration';

const DIRECTION: AttributeDecl = { values: ['receive', 'transmit'] };
const INTERFACE: Readonly<Record<string, AttributeDecl>> = { 'network.interface.name': {}, 'network.io.direction': DIRECTION };
// The conventions name the interface system.device on packet counts alone.
const DEVICE: Readonly<Record<string, AttributeDecl>> = { 'system.device': {}, 'network.io.direction': DIRECTION };

// Reading the connection tables costs real CPU on a busy server: connections has a switch of its own.
export const metrics = {
  io: { semconv: 'system.network.io', hostmetrics: 'system.network.io', kind: 'counter', unit: 'By', value: 'int', description: 'Bytes received and transmitted.', attributes: INTERFACE, default: ON },
  packets: { semconv: 'system.network.packet.count', hostmetrics: 'system.network.packets', kind: 'counter', unit: { semconv: '{packet}', hostmetrics: '{packets}' }, value: 'int', description: 'Packets received and transmitted.', attributes: DEVICE, default: ON },
  errors: { semconv: 'system.network.errors', hostmetrics: 'system.network.errors', kind: 'counter', unit: { semconv: '{error}', hostmetrics: '{errors}' }, value: 'int', description: 'Receive and transmit errors.', attributes: INTERFACE, default: ON },
  dropped: { semconv: 'system.network.packet.dropped', hostmetrics: 'system.network.dropped', kind: 'counter', unit: { semconv: '{packet}', hostmetrics: '{packets}' }, value: 'int', description: 'Packets dropped on receive and transmit.', attributes: INTERFACE, default: ON },
  connections: { semconv: 'system.network.connection.count', hostmetrics: 'system.network.connections', kind: 'updowncounter', unit: { semconv: '{connection}', hostmetrics: '{connections}' }, value: 'int', description: 'TCP connections by state (IPv4 and IPv6).', attributes: { 'network.transport': { values: ['tcp'] }, 'network.connection.state': { values: TCP_STATE_NAMES } }, default: ON, option: 'connections' },
} as const satisfies Metrics;

export type NetworkSettings = SystemCollectorsConfig['network_options'];

export const family: Family<typeof metrics, NetworkSettings> = {
  name: 'network',
  metrics,
  section: 'system',
  switch: 'collectors.system.network',
  enabled: (config) => config.collectors.system.enabled && config.collectors.system.network,
  settingsKey: 'collectors.system.network_options',
  settings: (config) => config.collectors.system.network_options,
  sources: '/proc/net/dev, /proc/net/tcp, /proc/net/tcp6, /proc/net/sockstat{,6}',
};
