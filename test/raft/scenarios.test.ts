// Replays every scenario in test/raft/scenarios/*.txt: adding a scenario means adding a file.
// A scenario's first line is a `# ...` comment naming the behaviour it checks.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScriptRunner } from './helpers/script.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');

describe('raft scenarios (test/raft/scenarios/*.txt)', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  for (const file of files) {
    const script = readFileSync(join(dir, file), 'utf8');
    const title = /^#\s*(.+)$/m.exec(script)?.[1] ?? file;
    it(`${title} (${file})`, () => {
      new ScriptRunner().run(script, file);
    });
  }
});
