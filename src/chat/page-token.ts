// ListAccounts page tokens: the last username a page examined, base64url-encoded. Opaque to clients,
// so the format can change; a token that does not decode to a username is the caller's error.
import { ValidationError, isValidUsername } from './validation.js';

export function encodePageToken(lastUsername: string): string {
  return Buffer.from(lastUsername, 'utf8').toString('base64url');
}

/** The username to resume after; undefined for an empty token (the first page). */
export function decodePageToken(token: string, field = 'page_token'): string | undefined {
  if (token === '') return undefined;
  const username = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!isValidUsername(username) || encodePageToken(username) !== token) {
    throw new ValidationError('INVALID_ARGUMENT', field, 'is not a token this server issued');
  }
  return username;
}
