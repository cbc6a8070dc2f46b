// pkg/heartbeat.schema.json, the payload's contract. Imported rather than read from disk so the
// compiler emits it next to the code (dist/pkg/): it ships wherever dist/ does.
import schemaJson from '../../pkg/heartbeat.schema.json';

export type HeartbeatSchema = typeof schemaJson & Record<string, unknown>;

export function heartbeatSchema(): HeartbeatSchema {
  return schemaJson as HeartbeatSchema;
}

/** The 135 systemInfo field names in contract order (host, cpu, memory, disk, network, …). */
export function systemInfoFields(): string[] {
  return Object.keys(schemaJson.properties.systemInfo.properties);
}
