// Reads a grpc-status-details-bin trailer back: google.rpc.Status and the RetryInfo it carries.
import { BinaryReader } from '@bufbuild/protobuf/wire';

export interface DecodedStatus {
  code: number;
  message: string;
  details: { typeUrl: string; retryDelaySeconds?: number }[];
}

export function decodeStatusDetails(bytes: Uint8Array): DecodedStatus {
  const decoded: DecodedStatus = { code: 0, message: '', details: [] };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) decoded.code = reader.int32();
    else if (field === 2) decoded.message = reader.string();
    else if (field === 3) decoded.details.push(decodeAny(reader.bytes()));
    else reader.skip(wireType);
  }
  return decoded;
}

function decodeAny(bytes: Uint8Array): { typeUrl: string; retryDelaySeconds?: number } {
  const reader = new BinaryReader(bytes);
  let typeUrl = '';
  let value: Uint8Array = new Uint8Array();
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) typeUrl = reader.string();
    else if (field === 2) value = reader.bytes();
    else reader.skip(wireType);
  }
  if (typeUrl !== 'type.googleapis.com/google.rpc.RetryInfo') return { typeUrl };
  // RetryInfo { Duration retry_delay = 1 }, Duration { int64 seconds = 1 }.
  const info = new BinaryReader(value);
  let retryDelaySeconds = 0;
  while (info.pos < info.len) {
    const [field, wireType] = info.tag();
    if (field !== 1) {
      info.skip(wireType);
      continue;
    }
    const duration = new BinaryReader(info.bytes());
    while (duration.pos < duration.len) {
      const [f, t] = duration.tag();
      if (f === 1) retryDelaySeconds = Number(duration.int64());
      else duration.skip(t);
    }
  }
  return { typeUrl, retryDelaySeconds };
}
