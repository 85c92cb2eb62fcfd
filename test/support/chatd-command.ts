// How tests start a chatd process: from dist/ when `npm test` has just built it (RAFTCHAT_TEST_DIST=1;
// a process starts in ~0.6 s of CPU instead of ~1.5 s through tsx, which matters when five start at
// once on a busy machine), otherwise from the sources through tsx, so a test run by hand never uses a
// stale build.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Node arguments that run chatd (append the subcommand and its flags). */
export function chatdNodeArgs(): string[] {
  const built = join(repoRoot, 'dist/cli/chatd.js');
  if (process.env['RAFTCHAT_TEST_DIST'] === '1') {
    if (!existsSync(built)) throw new Error(`RAFTCHAT_TEST_DIST=1 but ${built} is missing: run npm run build`);
    return [built];
  }
  return ['--import', 'tsx', join(repoRoot, 'src/cli/chatd.ts')];
}

/** For LocalCluster's `chatdEntry`: the built chatd under RAFTCHAT_TEST_DIST=1, else its own default. */
export function chatdEntryOption(): { chatdEntry?: string } {
  const args = chatdNodeArgs();
  return args.length === 1 ? { chatdEntry: args[0]! } : {};
}
