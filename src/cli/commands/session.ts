// The cached login: session.json in the user's config directory, readable only by its owner
// (0600 in a 0700 directory) because the token is a credential.
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface Session {
  username: string;
  token: string;
  expiresAtUnixMs: number;
}

export const SESSION_FILE_MODE = 0o600;

export class SessionStore {
  readonly path: string;

  constructor(readonly configDir: string) {
    this.path = path.join(configDir, 'session.json');
  }

  /** The cached session, or undefined when there is none (or it is unreadable). */
  async load(): Promise<Session | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const parsed: unknown = JSON.parse(text);
    return isSession(parsed) ? parsed : undefined;
  }

  /** Writes atomically (temp file, then rename) so a crash never leaves half a token behind. */
  async save(session: Session): Promise<void> {
    await mkdir(this.configDir, { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(session, null, 2)}\n`, { mode: SESSION_FILE_MODE });
    // The mode given to writeFile is masked by the umask; set it explicitly.
    await chmod(temporary, SESSION_FILE_MODE);
    await rename(temporary, this.path);
  }

  async clear(): Promise<void> {
    await rm(this.path, { force: true });
  }
}

function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['username'] === 'string' && typeof v['token'] === 'string' && typeof v['expiresAtUnixMs'] === 'number';
}
