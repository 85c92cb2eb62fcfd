// The bytes of a command in the Raft log and of its result on the forwarding path (follower →
// leader → follower). Thin wrappers so no caller names the generated encoders directly.
import { Command, CommandResult } from '../gen/raftchat/command/v1/command.js';
import { encodeWith } from './wire-writer.js';

/** Thrown when bytes are not a well-formed Command or CommandResult. */
export class CodecError extends Error {
  readonly code = 'MALFORMED';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CodecError';
  }
}

export function encodeCommand(command: Command): Uint8Array {
  return encodeWith((writer) => Command.encode(command, writer));
}

/** Decodes a command; unknown kinds decode to `{ kind: undefined }` (the caller rejects those). */
export function decodeCommand(data: Uint8Array): Command {
  try {
    return Command.decode(data);
  } catch (err) {
    throw new CodecError(`malformed command (${data.length} bytes): ${errorMessage(err)}`, { cause: err });
  }
}

export function encodeResult(result: CommandResult): Uint8Array {
  return encodeWith((writer) => CommandResult.encode(result, writer));
}

export function decodeResult(data: Uint8Array): CommandResult {
  try {
    return CommandResult.decode(data);
  } catch (err) {
    throw new CodecError(`malformed command result (${data.length} bytes): ${errorMessage(err)}`, { cause: err });
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
