// Parsing of positional values and option values; anything malformed is a usage error (exit 2).
import { UsageError } from './errors.js';

/** A message id: a positive integer that fits a JavaScript number exactly. */
export function parseMessageId(text: string): number {
  const id = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(id) || id <= 0) {
    throw new UsageError(`"${text}" is not a message id (a positive integer)`);
  }
  return id;
}

export function parseMessageIds(texts: readonly string[]): number[] {
  return texts.flatMap((text) => text.split(',')).filter((t) => t !== '').map(parseMessageId);
}

/** A non-negative integer for an option such as --after or --limit. */
export function parseCount(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new UsageError(`${flag} must be a non-negative integer, got "${text}"`);
  }
  return n;
}
