// How chatctl prints: an Output sink (stdout for results, stderr for progress and errors) and the
// shared formatting of tables, messages and errors.
import { RaftchatCallError } from '../client/index.js';
import type { Message } from '../gen/chat/v1/chat.js';

/** Where a command's lines go. Tests capture them; the shell prints them above its prompt. */
export interface Output {
  /** A result line (what scripts read). */
  stdout(line: string): void;
  /** Progress, warnings and errors. */
  stderr(line: string): void;
}

export function processOutput(): Output {
  return {
    stdout: (line) => void process.stdout.write(`${line}\n`),
    stderr: (line) => void process.stderr.write(`${line}\n`),
  };
}

/** Prints a value as one line of JSON (NDJSON for streams). */
export function printJson(out: Output, value: unknown): void {
  out.stdout(JSON.stringify(value));
}

export type Cell = string | number | boolean | undefined;

/** Left-aligned columns separated by two spaces, a header row first. */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string[] {
  const text = [headers.map(String), ...rows.map((row) => headers.map((_, i) => cellText(row[i])))];
  const widths = headers.map((_, column) => Math.max(...text.map((row) => (row[column] ?? '').length)));
  return text.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
}

export function printTable(out: Output, headers: readonly string[], rows: readonly (readonly Cell[])[]): void {
  for (const line of formatTable(headers, rows)) out.stdout(line);
}

function cellText(cell: Cell): string {
  if (cell === undefined) return '-';
  if (typeof cell === 'boolean') return cell ? 'yes' : 'no';
  return String(cell);
}

/** `#42  2026-11-23 12:03:01  alice → bob  hello` (local time), with `*` marking unread. */
export function formatMessage(message: Message): string {
  const when = formatTimestamp(message.sentAtUnixMs);
  const unread = message.read ? ' ' : '*';
  return `${unread}#${message.id}  ${when}  ${message.sender} → ${message.recipient}  ${message.body}`;
}

export function formatTimestamp(unixMs: number): string {
  const d = new Date(unixMs);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * grpc-js's connection failures run to several sentences ("No connection established. Last
 * error: Error: connect ECONNREFUSED … Resolution note: "); keep the part a user acts on.
 */
export function conciseDetails(details: string): string {
  return details
    .replace(/No connection established\. Last error: (?:Error: )?\w+ (E[A-Z]{3,})[^;]*?(?=;|$)/g, 'no connection ($1)')
    .replace(/\. Resolution note: ?(?=;|$)/g, '')
    .trim();
}

/** One line: the gRPC code and message for call errors, the message otherwise. */
export function formatError(error: unknown): string {
  if (error instanceof RaftchatCallError) return `${error.codeName}: ${conciseDetails(error.details)}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
