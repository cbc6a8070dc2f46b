import { ValueType, type Attributes, type AttributeValue, type HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { errorMessage, type Logger } from '../log/logger';
import {
  AggregationTemporality, DataPointType, type DataPoint, type MetricData, type MetricDescriptor, type ResourceMetrics,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';

// Wire types.
export const VARINT = 0;
export const FIXED64 = 1;
export const LEN = 2;

export const tag = (field: number, wireType: number): number => (field << 3) | wireType;

// A NumberDataPoint before its attributes: start_time (2), time (3), as_double (4) or as_int (6), each a tag and 8 bytes.
const POINT_FIXED_BYTES = 27;

/**
 * The agent's own metrics and, in the same request, other resources' (a receiver's senders, one
 * resource each). A request of several ResourceMetrics is their requests' bytes end to end: the
 * field is repeated.
 */
export type MetricsBatch = ResourceMetrics & { others?: ResourceMetrics[] };

/** Something the fast path does not encode (a histogram, an array attribute). */
class NotEncodable extends Error {}

function varintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 128);
    size += 1;
  }
  return size;
}

/** A growable buffer of protobuf, written front to back; lengths are known before their messages. */
export class Writer {
  buf: Buffer;
  pos = 0;
  // Fixed-width numbers go through a DataView: the agent runs as bytecode (--max-opt=0), where
  // Buffer's writeUInt32LE/writeDoubleLE (JavaScript with range checks) cost 3-7x a DataView call.
  private fixedView?: DataView;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private get view(): DataView {
    return (this.fixedView ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  varint(value: number): void {
    while (value > 0x7f) {
      this.buf[this.pos++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buf[this.pos++] = value;
  }

  bytes(bytes: Uint8Array): void {
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Nanoseconds since the epoch as fixed64. seconds × 1e9 exceeds 2^53, so it is split to stay exact. */
  nanos(time: HrTime): void {
    const seconds = time[0];
    const high = Math.floor(seconds / 65536) * 1e9;
    const low = (high % 65536) * 65536 + (seconds % 65536) * 1e9 + time[1];
    const view = this.view;
    view.setUint32(this.pos, low % 2 ** 32, true);
    view.setUint32(this.pos + 4, Math.floor(high / 65536) + Math.floor(low / 2 ** 32), true);
    this.pos += 8;
  }

  double(value: number): void {
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** An integer as sfixed64 (two's complement, little endian). */
  int64(value: number): void {
    // A DataView wraps what does not fit where Buffer threw; a fault, so the transformer encodes it.
    if (value >= 2 ** 64 || value < -(2 ** 63)) throw new RangeError(`${value} does not fit in 64 bits`);
    const view = this.view;
    if (value >= 0) {
      view.setUint32(this.pos, value % 2 ** 32, true);
      view.setUint32(this.pos + 4, Math.floor(value / 2 ** 32), true);
    } else {
      view.setBigInt64(this.pos, BigInt(value), true);
    }
    this.pos += 8;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** One field of a message, built once: a tag, then a string or message body with its length. */
export function lengthDelimited(field: number, body: Uint8Array): Buffer {
  const w = new Writer(body.length + 10);
  w.varint(tag(field, LEN));
  w.varint(body.length);
  w.bytes(body);
  return Buffer.from(w.finish());
}

export function stringField(field: number, text: string): Buffer {
  return lengthDelimited(field, Buffer.from(text, 'utf8'));
}

export function anyValue(value: AttributeValue | undefined): Buffer {
  if (typeof value === 'string') return stringField(1, value);
  if (typeof value === 'boolean') return Buffer.from([tag(2, VARINT), value ? 1 : 0]);
  if (typeof value === 'number') {
    // As the transformer does: int_value for integers that fit, double_value otherwise.
    if (Number.isInteger(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
      const w = new Writer(12);
      w.varint(tag(3, VARINT));
      w.varint(value);
      return Buffer.from(w.finish());
    }
    if (Number.isInteger(value)) throw new NotEncodable('negative or huge integer attribute');
    const w = new Writer(9);
    w.varint(tag(4, FIXED64));
    w.double(value);
    return Buffer.from(w.finish());
  }
  throw new NotEncodable(`attribute value of type ${Array.isArray(value) ? 'array' : typeof value}`);
}

/** The repeated KeyValue field `field` for every attribute, in the object's order. */
export function attributesField(field: number, attributes: Attributes): Buffer {
  const parts: Buffer[] = [];
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    parts.push(lengthDelimited(field, Buffer.concat([stringField(1, key), lengthDelimited(2, anyValue(attributes[key]))])));
  }
  return Buffer.concat(parts);
}

interface PlannedMetric {
  metric: MetricData;
  header: Buffer;
  dataField: number;
  /** Each point's encoded attributes, in order (a point's message is 27 bytes more). */
  pointAttributes: Buffer[];
  /** Sum or gauge body: the points, temporality, monotonic flag. */
  bodySize: number;
  size: number;
}

interface PlannedScope {
  scope: Buffer;
  metrics: PlannedMetric[];
  size: number;
}

/**
 * OTLP protobuf (ExportMetricsServiceRequest) for sums and gauges: byte for byte
 * what the OTLP transformer writes, without writing every string anew each cycle. The bytes of a
 * resource, a scope, a metric's name, description and unit, and an attribute set are kept, by
 * object, for as long as the object lives: the SDK and the direct collectors hand over the same
 * attribute object for a series at every export. With 100 processes tracked, whose 800 points
 * each carry seven identifying attributes (paths and command lines among them), the transformer
 * spent about 2.4 µs a point writing those strings character by character. A request with
 * anything else (histograms, array attributes) goes to the transformer whole.
 */
export class MetricsEncoder {
  private readonly pointAttributes = new WeakMap<Attributes, Buffer>();
  private readonly resources = new WeakMap<Resource, Buffer>();
  private readonly headers = new WeakMap<MetricDescriptor, Buffer>();
  private readonly scopes = new WeakMap<ScopeMetrics['scope'], Buffer>();
  /** Requests the fast path failed on for a reason other than what it does not encode: a fault of its own. */
  faults = 0;

  constructor(private readonly log?: Logger) {}

  /** The request's bytes; undefined when the transformer, given what the fast path does not encode, cannot either. */
  encode(batch: MetricsBatch): Uint8Array | undefined {
    if (batch.others === undefined || batch.others.length === 0) return this.encodeOne(batch);
    const parts: Uint8Array[] = [];
    for (const metrics of [batch, ...batch.others]) {
      const bytes = this.encodeOne(metrics);
      if (bytes === undefined) return undefined;
      parts.push(bytes);
    }
    return Buffer.concat(parts);
  }

  private encodeOne(metrics: ResourceMetrics): Uint8Array | undefined {
    try {
      return this.encodeFast(metrics);
    } catch (err) {
      // The transformer is the reference, and a batch is never lost to the encoder. What the fast
      // path does not encode is expected; anything else is a fault of it, counted and logged once.
      if (!(err instanceof NotEncodable)) {
        this.faults += 1;
        if (this.faults === 1) this.log?.error({ err: errorMessage(err) }, 'export.encoder_fault: fast encoder failed, the request is encoded by the OTLP transformer');
      }
      const { ProtobufMetricsSerializer } = require('@opentelemetry/otlp-transformer') as typeof import('@opentelemetry/otlp-transformer');
      return ProtobufMetricsSerializer.serializeRequest(metrics);
    }
  }

  private encodeFast({ resource, scopeMetrics }: ResourceMetrics): Uint8Array {
    if (resource.schemaUrl) throw new NotEncodable('resource schema URL');
    const resourceField = this.resourceField(resource);
    const scopes = scopeMetrics.map((scope) => this.planScope(scope));
    let resourceMetricsSize = resourceField.length;
    for (const scope of scopes) resourceMetricsSize += 1 + varintSize(scope.size) + scope.size;

    const w = new Writer(1 + varintSize(resourceMetricsSize) + resourceMetricsSize);
    w.varint(tag(1, LEN));
    w.varint(resourceMetricsSize);
    w.bytes(resourceField);
    for (const scope of scopes) {
      w.varint(tag(2, LEN));
      w.varint(scope.size);
      w.bytes(scope.scope);
      for (const planned of scope.metrics) this.writeMetric(w, planned);
    }
    return w.finish();
  }

  private resourceField(resource: Resource): Buffer {
    let bytes = this.resources.get(resource);
    if (bytes === undefined) {
      // Resource: attributes (1), dropped_attributes_count (2) written as 0, as the transformer does.
      bytes = lengthDelimited(1, Buffer.concat([attributesField(1, resource.attributes), Buffer.from([tag(2, VARINT), 0])]));
      this.resources.set(resource, bytes);
    }
    return bytes;
  }

  private planScope({ scope, metrics }: ScopeMetrics): PlannedScope {
    const { attributes } = scope as { attributes?: Attributes };
    if (scope.schemaUrl || (attributes !== undefined && Object.keys(attributes).length > 0)) throw new NotEncodable('scope schema URL or attributes');
    let scopeField = this.scopes.get(scope);
    if (scopeField === undefined) {
      const parts = [stringField(1, scope.name)];
      if (scope.version) parts.push(stringField(2, scope.version));
      scopeField = lengthDelimited(1, Buffer.concat(parts));
      this.scopes.set(scope, scopeField);
    }
    const planned = metrics.map((metric) => this.planMetric(metric));
    let size = scopeField.length;
    for (const metric of planned) size += 1 + varintSize(metric.size) + metric.size;
    return { scope: scopeField, metrics: planned, size };
  }

  private planMetric(metric: MetricData): PlannedMetric {
    if (metric.dataPointType !== DataPointType.SUM && metric.dataPointType !== DataPointType.GAUGE) {
      throw new NotEncodable('not a sum or gauge');
    }
    let header = this.headers.get(metric.descriptor);
    if (header === undefined) {
      const { name, description, unit } = metric.descriptor;
      const parts = [stringField(1, name)];
      if (description) parts.push(stringField(2, description));
      if (unit) parts.push(stringField(3, unit));
      header = Buffer.concat(parts);
      this.headers.set(metric.descriptor, header);
    }
    const pointAttributes: Buffer[] = [];
    let bodySize = 0;
    for (const point of metric.dataPoints as Array<DataPoint<number>>) {
      const attributes = this.attributesOf(point.attributes);
      pointAttributes.push(attributes);
      const pointSize = POINT_FIXED_BYTES + attributes.length;
      bodySize += 1 + varintSize(pointSize) + pointSize;
    }
    if (metric.dataPointType === DataPointType.SUM) {
      if (temporalityOf(metric.aggregationTemporality) !== 0) bodySize += 2;
      if (metric.isMonotonic) bodySize += 2;
    }
    const size = header.length + 1 + varintSize(bodySize) + bodySize;
    return { metric, header, dataField: metric.dataPointType === DataPointType.SUM ? 7 : 5, pointAttributes, bodySize, size };
  }

  private attributesOf(attributes: Attributes): Buffer {
    let bytes = this.pointAttributes.get(attributes);
    if (bytes === undefined) {
      bytes = attributesField(7, attributes);
      this.pointAttributes.set(attributes, bytes);
    }
    return bytes;
  }

  private writeMetric(w: Writer, { metric, header, dataField, pointAttributes, bodySize, size }: PlannedMetric): void {
    w.varint(tag(2, LEN));
    w.varint(size);
    w.bytes(header);
    w.varint(tag(dataField, LEN));
    w.varint(bodySize);
    const points = metric.dataPoints as Array<DataPoint<number>>;
    const integers = metric.descriptor.valueType === ValueType.INT;
    for (let i = 0; i < points.length; i++) {
      const point = points[i];
      w.varint(tag(1, LEN));
      w.varint(POINT_FIXED_BYTES + pointAttributes[i].length);
      w.varint(tag(2, FIXED64));
      w.nanos(point.startTime);
      w.varint(tag(3, FIXED64));
      w.nanos(point.endTime);
      if (integers) {
        w.varint(tag(6, FIXED64));
        w.int64(point.value);
      } else {
        w.varint(tag(4, FIXED64));
        w.double(point.value);
      }
      w.bytes(pointAttributes[i]);
    }
    if (metric.dataPointType === DataPointType.SUM) {
      const temporality = temporalityOf(metric.aggregationTemporality);
      if (temporality !== 0) {
        w.varint(tag(2, VARINT));
        w.varint(temporality);
      }
      if (metric.isMonotonic) {
        w.varint(tag(3, VARINT));
        w.varint(1);
      }
    }
  }
}

function temporalityOf(temporality: AggregationTemporality): number {
  if (temporality === AggregationTemporality.DELTA) return 1;
  if (temporality === AggregationTemporality.CUMULATIVE) return 2;
  return 0;
}
