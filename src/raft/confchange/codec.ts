// The byte encoding of a ConfChange carried in a ConfChange log entry's data (all lengths big-endian):
// [version=2][type][u16 id length][id UTF-8][u32 context length][context]
// [u16 voter count]([u16 length][id])*[u16 learner count]([u16 length][id])*   (confStateAfter; counts
// 0xffff when absent). Version 1 ([1][type][u16 id length][id][context...]) is still read.
import { RaftError } from '../errors.js';
import { ConfChangeType, type ConfChange, type ConfState } from '../types.js';

const VERSION = 2;
const ABSENT = 0xffff;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

class Writer {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  u8(v: number): void { this.push(Uint8Array.of(v)); }
  u16(v: number): void { this.push(Uint8Array.of(v >>> 8, v & 0xff)); }
  u32(v: number): void { this.push(Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff)); }
  push(b: Uint8Array): void { this.parts.push(b); this.length += b.length; }

  id(s: string): void {
    const b = encoder.encode(s);
    if (b.length >= ABSENT) throw new RaftError('CONF_CHANGE_INVALID', 'node id longer than 65534 bytes');
    this.u16(b.length);
    this.push(b);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) { out.set(p, at); at += p.length; }
    return out;
  }
}

class Reader {
  private at = 0;
  constructor(private readonly data: Uint8Array) {}

  private need(n: number): void {
    if (this.at + n > this.data.length) throw new RaftError('CONF_CHANGE_INVALID', 'truncated ConfChange');
  }
  u8(): number { this.need(1); return this.data[this.at++] as number; }
  u16(): number { return (this.u8() << 8) | this.u8(); }
  u32(): number { return ((this.u16() << 16) >>> 0) + this.u16(); }
  take(n: number): Uint8Array { this.need(n); const b = this.data.slice(this.at, this.at + n); this.at += n; return b; }
  rest(): Uint8Array { return this.take(this.data.length - this.at); }
  id(): string { return decoder.decode(this.take(this.u16())); }
  ids(count: number): string[] { const out: string[] = []; for (let i = 0; i < count; i++) out.push(this.id()); return out; }
  done(): boolean { return this.at === this.data.length; }
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const w = new Writer();
  w.u8(VERSION);
  w.u8(cc.type);
  w.id(cc.nodeId);
  w.u32(cc.context.length);
  w.push(cc.context);
  const cs = cc.confStateAfter;
  if (cs === undefined) {
    w.u16(ABSENT);
    w.u16(ABSENT);
  } else {
    w.u16(cs.voters.length);
    for (const v of cs.voters) w.id(v);
    w.u16(cs.learners.length);
    for (const l of cs.learners) w.id(l);
  }
  return w.bytes();
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const r = new Reader(data);
  const version = r.u8();
  if (version !== 1 && version !== VERSION) throw new RaftError('CONF_CHANGE_INVALID', `unknown ConfChange encoding version ${version}`);
  const type = r.u8();
  if (type !== ConfChangeType.AddNode && type !== ConfChangeType.AddLearner && type !== ConfChangeType.RemoveNode) {
    throw new RaftError('CONF_CHANGE_INVALID', `unknown ConfChange type ${type}`);
  }
  const nodeId = r.id();
  if (version === 1) return { type, nodeId, context: r.rest() };
  const context = r.take(r.u32());
  const voterCount = r.u16();
  const voters = voterCount === ABSENT ? undefined : r.ids(voterCount);
  const learnerCount = r.u16();
  const learners = learnerCount === ABSENT ? undefined : r.ids(learnerCount);
  if (!r.done()) throw new RaftError('CONF_CHANGE_INVALID', 'trailing bytes after ConfChange');
  const cc: ConfChange = { type, nodeId, context };
  if (voters !== undefined && learners !== undefined) {
    const confStateAfter: ConfState = { voters, learners };
    cc.confStateAfter = confStateAfter;
  }
  return cc;
}
