// `tfo-agent collectd listen`: what arrives, one line per value list or notification, for
// checking a migration by eye. Nothing is exported.
import type { Logger } from '../../log/logger';
import type { Notification, ValueList } from './decode';
import { hrTimeToMillis, SECURITY_LEVELS, type SecurityLevel } from './protocol';
import { CollectdReceiver } from './receiver';

export interface ListenOptions {
  listen: string[];
  authFile: string;
  securityLevel: string;
}

function identity(x: Pick<ValueList, 'host' | 'plugin' | 'pluginInstance' | 'type' | 'typeInstance'>): string {
  const plugin = x.pluginInstance ? `${x.plugin}-${x.pluginInstance}` : x.plugin;
  const type = x.typeInstance ? `${x.type}-${x.typeInstance}` : x.type;
  return `${x.host}/${plugin}/${type}`;
}

export function formatValueList(vl: ValueList): string {
  const values = vl.values.map((v, i) => `${vl.kinds[i]}=${v}`).join(' ');
  return `${new Date(hrTimeToMillis(vl.time)).toISOString()} ${identity(vl)} ${values}`;
}

export function formatNotification(n: Notification): string {
  return `${new Date(hrTimeToMillis(n.time)).toISOString()} ${identity(n)} ${n.severity.toUpperCase()} ${JSON.stringify(n.message)}`;
}

/** Runs until the process is stopped; resolves to the receiver (for its counters). */
export async function listen(options: ListenOptions, logger: Logger, write: (line: string) => void): Promise<CollectdReceiver> {
  if (!SECURITY_LEVELS.includes(options.securityLevel as SecurityLevel)) {
    throw new Error(`--security-level: ${JSON.stringify(options.securityLevel)} is not one of ${SECURITY_LEVELS.join(', ')}`);
  }
  const receiver = await CollectdReceiver.start({
    listen: options.listen,
    maxPacketSize: 65535,
    securityLevel: options.securityLevel as SecurityLevel,
    authFile: options.authFile,
    logger,
    onValueList: (vl) => write(formatValueList(vl)),
    onNotification: (n) => write(formatNotification(n)),
  });
  logger.info({ event: 'collectd.listening', addresses: receiver.addresses }, `listening on ${receiver.addresses.join(', ')}`);
  return receiver;
}
