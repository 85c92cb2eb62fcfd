// Real crashes: a child process installs snapshots and appends in a loop and is killed with SIGKILL at
// a random instant; every restart must find the old state or the new one, whole, and a loadable log.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { ReplicaStore } from '../../src/storage/index.js';
import { keyspaceLevel, metaLevel } from '../../src/storage/layout.js';
import { MetaKey } from '../../src/storage/meta-codec.js';
import { TempDirs, countKeys, text, withRawDatabase } from './helpers.js';

const WRITER = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
const KILLS = 5;

/** Runs the writer until it has printed `lines` lines, then `extraMs` more, then SIGKILLs it. */
async function runAndKill(dataDir: string, lines: number, extraMs: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let seen = 0;
    const deadline = setTimeout(() => reject(new Error(`writer printed ${seen}/${lines} lines in 30 s: ${stderr}`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString().split('\n').filter((l) => l !== '').length;
      if (seen >= lines) {
        clearTimeout(deadline);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`writer exited (${code}) before ${lines} lines: ${stderr}`));
    });
  });
  // The crash point: a random instant within the next rounds, not a wait for anything.
  await new Promise((resolve) => setTimeout(resolve, extraMs));
  child.kill('SIGKILL');
  await exited;
}

describe('ReplicaStore across real crashes', function () {
  this.timeout(240_000);
  const temp = new TempDirs();
  afterEach(() => temp.cleanup());

  it('finds either the old or the new snapshot, whole, after SIGKILL at random instants', async () => {
    const dir = await temp.make();
    const roundsSeen = new Set<number>();
    let leftoversCleared = 0;
    const logger = pino({ level: 'info' }, { write: (line: string) => void (line.includes('interrupted snapshot') && leftoversCleared++) });
    for (let kill = 0; kill < KILLS; kill++) {
      await runAndKill(dir, 2, Math.floor(Math.random() * 150));
      const store = await ReplicaStore.open(dir, { logger });
      const state = await store.load();
      const round = state.appliedIndex / 100;
      assert.ok(Number.isInteger(round) && round >= 1, `applied index ${state.appliedIndex} is a round's`);
      assert.equal(state.snapshot.index, state.appliedIndex);
      assert.equal(state.appliedTerm, round);
      // The log restarts after the snapshot: nothing, or the round's entries in order.
      assert.deepEqual(
        state.entries.map((e) => e.index),
        Array.from({ length: state.entries.length }, (_, i) => state.appliedIndex + 1 + i),
      );
      const digest = await store.digest((key) => key.slice(0, 1));
      assert.deepEqual(digest.counts, { k: 200 });
      for await (const value of store.keyspace().values()) assert.equal(text(value), String(round));
      roundsSeen.add(round);
      await store.close();
      await withRawDatabase(dir, async (db) => {
        assert.equal(await metaLevel(db).get(MetaKey.staging), undefined);
        assert.equal(await metaLevel(db).get(MetaKey.retired), undefined);
        const live = Number(await metaLevel(db).get(MetaKey.generation));
        assert.equal(await countKeys(keyspaceLevel(db, live + 1)), 0, 'no staged pairs remain');
        assert.equal(await countKeys(keyspaceLevel(db, live - 1)), 0, 'no retired pairs remain');
      });
    }
    assert.ok(roundsSeen.size > 1, 'the writer made progress between crashes');
    console.log(`      ${KILLS} kills, rounds seen ${[...roundsSeen].join(',')}, ${leftoversCleared} leftover generations cleared on open`);
  });
});
