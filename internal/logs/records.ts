// Log records as the agent's log pipeline carries them, and their OTLP protobuf
// (ExportLogsServiceRequest). Sources (the collectd receiver's notifications, later a log-file
// reader) hand records in; the pipeline batches, exports and buffers them.
import type { Attributes, HrTime } from '@opentelemetry/api';
import { attributesField, FIXED64, lengthDelimited, stringField, tag, VARINT, Writer } from '../exporter/encode';
import { VERSION } from '../version/version';

/** OpenTelemetry's SeverityNumber values for the levels used here. */
export const SEVERITY = { INFO: 9, WARN: 13, ERROR: 17 } as const;
export type SeverityText = keyof typeof SEVERITY;

export interface LogRecord {
  /** When the event happened (the source's own time). */
  time: HrTime;
  /** When the agent received it. */
  observedTime: HrTime;
  severity: SeverityText;
  body: string;
  attributes: Attributes;
  /** The resource the record belongs to (for a receiver: its sender's host). */
  resource: Attributes;
}

const SCOPE = lengthDelimited(1, Buffer.concat([stringField(1, 'tfo-agent'), stringField(2, VERSION)]));

function recordBytes(record: LogRecord): Buffer {
  const w = new Writer(64);
  w.varint(tag(1, FIXED64));
  w.nanos(record.time);
  w.varint(tag(2, VARINT));
  w.varint(SEVERITY[record.severity]);
  const head = Buffer.from(w.finish());
  const body = lengthDelimited(5, stringField(1, record.body));
  const observed = new Writer(9);
  observed.varint(tag(11, FIXED64));
  observed.nanos(record.observedTime);
  return Buffer.concat([head, stringField(3, record.severity), body, attributesField(6, record.attributes), Buffer.from(observed.finish())]);
}

/** One ExportLogsServiceRequest: the records grouped by resource, in arrival order within each. */
export function encodeLogs(records: readonly LogRecord[]): Uint8Array {
  const byResource = new Map<string, { resource: Attributes; records: Buffer[] }>();
  for (const record of records) {
    const key = JSON.stringify(record.resource);
    let group = byResource.get(key);
    if (group === undefined) {
      group = { resource: record.resource, records: [] };
      byResource.set(key, group);
    }
    group.records.push(lengthDelimited(2, recordBytes(record)));
  }
  const resourceLogs: Buffer[] = [];
  for (const { resource, records: encoded } of byResource.values()) {
    const scopeLogs = lengthDelimited(2, Buffer.concat([SCOPE, ...encoded]));
    resourceLogs.push(lengthDelimited(1, Buffer.concat([lengthDelimited(1, attributesField(1, resource)), scopeLogs])));
  }
  return Buffer.concat(resourceLogs);
}
