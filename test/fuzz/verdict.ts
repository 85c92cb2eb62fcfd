// What counts as a finding. Malformed input must be refused with a code the caller can act on
// (INVALID_ARGUMENT, UNAUTHENTICATED, RESOURCE_EXHAUSTED, ...): UNKNOWN, INTERNAL or DATA_LOSS means
// the server did not understand its own failure. A call that needs a session and carried none that
// is valid must never succeed. Findings already reported are listed here, each with its TODO.
import { status } from '@grpc/grpc-js';
import type { Access } from './methods.js';

export interface Observation {
  /** A compact description of the input, enough to recognise it in a report. */
  label: string;
  access: Access;
  /** The call carried the fuzz's valid session (the server must accept it as that user). */
  grantsSession: boolean;
  via: 'grpc-js' | 'http2';
  /** undefined when no status came back: the fuzz reset the stream or dropped the connection. */
  code: status | undefined;
  details: string;
  /** The fuzz cancelled the call itself, so CANCELLED is its own doing. */
  clientCancelled: boolean;
  httpStatus?: number;
}

export interface KnownFinding {
  id: string;
  summary: string;
  matches(o: Observation): boolean;
}

/**
 * Findings the fuzz made in grpc-js and Node's HTTP/2 layer, before any raftchat code runs: the exact
 * status each produces, for the exact kind of input, is tolerated; RAFTCHAT_FUZZ_STRICT=1 makes them
 * fail. Every other INTERNAL — raftchat's own "internal error; the server log has the details" above
 * all — is a failure. (The fuzz's raftchat findings are fixed: F1 and F2, requests that did not
 * decode answered INTERNAL — src/api/malformed.ts; F6, a glob whose matching blocked a replica for
 * seconds — src/chat/glob.ts.)
 */
export const KNOWN_FINDINGS: readonly KnownFinding[] = [
  {
    // TODO(fuzz F3): grpc-js answers a malformed grpc-timeout header with INTERNAL ("Invalid
    // grpc-timeout value ..."); upstream grpc-js behaviour, out of raftchat's handlers' reach.
    id: 'F3',
    summary: 'a malformed grpc-timeout header is answered INTERNAL (grpc-js)',
    matches: (o) => o.code === status.INTERNAL && /^Invalid grpc-timeout value/.test(o.details),
  },
  {
    // TODO(fuzz F4): a message flagged compressed that does not inflate is answered INTERNAL
    // ("Failed to decompress message") by grpc-js; upstream grpc-js behaviour.
    id: 'F4',
    summary: 'a compressed message that does not decompress is answered INTERNAL (grpc-js)',
    matches: (o) => o.code === status.INTERNAL && o.details === 'Failed to decompress message',
  },
  {
    // TODO(fuzz F5): metadata past roughly 70-100 KB (a huge authorization value) makes Node's HTTP/2
    // layer reset the streams of that connection with COMPRESSION_ERROR; grpc-js clients report it
    // as INTERNAL, and every other call in flight on the same connection fails with it. The same
    // happens to a bare grpc-js server (no raftchat code involved): upstream behaviour; a bound on
    // metadata size answered RESOURCE_EXHAUSTED would need grpc-js support.
    id: 'F5',
    summary: 'oversized metadata resets the connection\'s streams; clients see INTERNAL (Node http2 / grpc-js)',
    matches: (o) => o.code === status.INTERNAL && o.details === 'Received RST_STREAM with code 9',
  },
];

const strict = process.env['RAFTCHAT_FUZZ_STRICT'] === '1';

const NEVER_FOR_BAD_INPUT: ReadonlySet<status> = new Set([status.UNKNOWN, status.INTERNAL, status.DATA_LOSS]);

export interface Verdict {
  /** Why this observation is a bug; undefined when it is not one. */
  finding: string | undefined;
  /** The known finding it matched (tolerated), if any. */
  known: string | undefined;
}

export function judge(o: Observation): Verdict {
  const ok = { finding: undefined, known: undefined };
  if (o.code === undefined) {
    if (o.httpStatus !== undefined && o.httpStatus >= 500) return { finding: `HTTP ${o.httpStatus} without a gRPC status`, known: undefined };
    return ok;
  }
  const name = status[o.code] ?? String(o.code);
  if (NEVER_FOR_BAD_INPUT.has(o.code)) {
    const known = KNOWN_FINDINGS.find((k) => k.matches(o));
    if (known !== undefined && !strict) return { finding: undefined, known: known.id };
    return { finding: `answered ${name} ("${o.details}")`, known: known?.id };
  }
  if (o.code === status.CANCELLED && !o.clientCancelled) return { finding: `answered CANCELLED although the client cancelled nothing ("${o.details}")`, known: undefined };
  // grpc-js clients always send exactly one message to a known path: the method exists.
  if (o.code === status.UNIMPLEMENTED && o.via === 'grpc-js') return { finding: `answered UNIMPLEMENTED for a method the server has ("${o.details}")`, known: undefined };
  if (o.code === status.OK && o.access === 'session' && !o.grantsSession) return { finding: 'succeeded without a valid session', known: undefined };
  if (o.code === status.OK && o.access === 'admin') return { finding: 'a membership call succeeded without the admin token', known: undefined };
  return ok;
}
