// One protobuf BinaryWriter reused for every record and command this module encodes. A fresh writer
// starts at 128 bytes and doubles (a zeroed allocation each time) to fit a message; this one keeps its
// grown buffer, and finish() copies out exactly the bytes written, so reuse changes no output.
import { BinaryWriter } from '@bufbuild/protobuf/wire';

const shared = new BinaryWriter();

/** The bytes `write` puts into a writer. `write` must be synchronous: the writer is shared. */
export function encodeWith(write: (writer: BinaryWriter) => unknown): Uint8Array {
  try {
    write(shared);
  } catch (err) {
    shared.finish(); // drop the half-written bytes, so the next encode starts empty
    throw err;
  }
  return shared.finish();
}
