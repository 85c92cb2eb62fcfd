// Disk trouble on one of five real replica processes under the chaos workload: its filesystem
// fills up or turns read-only (it must stop itself, loudly, while the others serve), and its Raft
// log is corrupted while it is down (it must refuse to start, naming the file and the entry).
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { TestCluster } from '../support/cluster.js';
import { afterScenario, aFollower, figure, restoreAll, sharedCluster, startWorkload, stopAndCheck, waitCaughtUp } from './support/harness.js';
import { TmpfsDataDir, damageLogEntry } from './support/disk.js';

/** The log lines at level fatal (pino level 60) written after byte `fromByte` of a replica's log. */
function fatalLines(cluster: TestCluster, id: string, fromByte: number): string[] {
  // Sliced as bytes, then decoded: log lines hold multi-byte characters (the slow-disk warning's
  // dash), so a character offset taken from a byte size lands past the lines it should start at.
  return readFileSync(cluster.logOf(id))
    .subarray(fromByte)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.includes('"level":60'));
}

function logSize(cluster: TestCluster, id: string): number {
  return statSync(cluster.logOf(id)).size;
}

/** Waits for a replica process to exit by itself and returns its exit code. */
async function exitOf(cluster: TestCluster, id: string, timeoutMs: number, progress?: () => string): Promise<number | null> {
  const exited = cluster.node(id).exited!;
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
  const outcome = await Promise.race([exited, timeout]);
  if (outcome === 'timeout') {
    // Say whether writes kept flowing meanwhile: a replica that never had to write cannot fail.
    const log = readFileSync(cluster.logOf(id), 'utf8').trimEnd().split('\n').slice(-5).join('\n');
    throw new Error(`${id} was still running ${timeoutMs} ms later (${progress?.() ?? 'no workload figures'}); last log lines:\n${log}`);
  }
  return outcome.code;
}

describe('disk trouble on one of five replicas under load', function () {
  this.timeout(180_000);
  let cluster: TestCluster;
  let disk: TmpfsDataDir | undefined;

  before(async () => {
    cluster = await sharedCluster();
    await restoreAll(cluster);
  });
  afterEach(async () => {
    // Mounts are cleaned up whatever happened; the replica is killed first so nothing holds them.
    if (disk !== undefined) {
      const victim = cluster.nodes.find((n) => n.dataDir === disk!.dataDir)!.id;
      await cluster.kill(victim, 'SIGKILL');
      disk.cleanUp();
      disk = undefined;
    }
    await afterScenario(cluster);
  });

  /** Stops `victim` and moves its data onto a tmpfs; `use` runs the fault; then it comes back home. */
  async function onTmpfs(victim: string, use: (tmpfs: TmpfsDataDir) => Promise<void>): Promise<void> {
    await cluster.kill(victim, 'SIGTERM');
    const tmpfs = new TmpfsDataDir(cluster.node(victim).dataDir);
    disk = tmpfs;
    tmpfs.mount(64 << 20);
    await use(tmpfs);
    // The cause fixed, the replica recovers on the same disk; then it moves back with its state.
    // Its data as the fault left it is copied aside first (LevelDB's own LOG included): if it does
    // not recover, that copy is the evidence; otherwise it is thrown away.
    const evidence = tmpfs.keepCopy();
    cluster.restart(victim);
    await waitCaughtUp(cluster, victim).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; ${victim}'s data directory as the fault left it is in ${evidence}`, { cause: err });
    });
    rmSync(evidence, { recursive: true, force: true });
    await cluster.kill(victim, 'SIGTERM');
    tmpfs.unmount();
    disk = undefined;
    cluster.restart(victim);
    await waitCaughtUp(cluster, victim);
  }

  it('stops a replica whose disk fills up, with a fatal log line naming the problem, while the others serve', async () => {
    const workload = await startWorkload(cluster);
    await workload.waitForMoreAcknowledged(30, 30_000);
    const victim = await aFollower(cluster);
    await onTmpfs(victim, async (tmpfs) => {
      cluster.restart(victim);
      await waitCaughtUp(cluster, victim);
      const logFrom = logSize(cluster, victim);
      const filledAtMs = Date.now();
      const filledBytes = tmpfs.fill();
      const ackedAtFill = workload.counters().acknowledged;
      const code = await exitOf(cluster, victim, 60_000, () => `${workload.counters().acknowledged - ackedAtFill} sends acknowledged since the fill`);
      const fatal = fatalLines(cluster, victim, logFrom);
      figure(`${victim}'s disk filled (${(filledBytes / 2 ** 20).toFixed(1)} MiB); it exited with code ${code} ${Date.now() - filledAtMs} ms later: ${fatal[0]?.slice(0, 240) ?? '(no fatal line)'}`);
      assert.ok(code !== 0 && code !== null, `${victim} exits with a non-zero code (got ${code})`);
      assert.ok(fatal.some((line) => /ENOSPC|no space left/i.test(line)), `a fatal log line says the disk is full:\n${fatal.join('\n')}`);
      await workload.waitForMoreAcknowledged(30, 30_000);
      tmpfs.unfill();
    });
    await stopAndCheck(cluster, workload);
  });

  it('refuses to start a replica whose data directory is on a read-only filesystem, naming the problem', async () => {
    // A running replica's filesystem cannot be remounted read-only (Linux: "mount point is busy"
    // while a file is open for writing), so this is the start-up half of "unwritable".
    const workload = await startWorkload(cluster);
    await workload.waitForMoreAcknowledged(30, 30_000);
    const victim = await aFollower(cluster);
    await onTmpfs(victim, async (tmpfs) => {
      tmpfs.remount('ro');
      const logFrom = logSize(cluster, victim);
      cluster.restart(victim);
      const code = await exitOf(cluster, victim, 30_000);
      const fatal = fatalLines(cluster, victim, logFrom);
      figure(`${victim} on a read-only filesystem exited with code ${code}: ${fatal[0]?.slice(0, 240) ?? '(no fatal line)'}`);
      assert.ok(code !== 0 && code !== null, `${victim} exits with a non-zero code (got ${code})`);
      assert.ok(fatal.some((line) => /EROFS|read-only file system/i.test(line)), `a fatal log line says the filesystem is read-only:\n${fatal.join('\n')}`);
      await workload.waitForMoreAcknowledged(20, 30_000);
      tmpfs.remount('rw');
    });
    await stopAndCheck(cluster, workload);
  });

  it('refuses to start a replica whose Raft log has a corrupt entry, naming the file and the index', async () => {
    const workload = await startWorkload(cluster);
    await workload.waitForMoreAcknowledged(30, 30_000);
    const victim = await aFollower(cluster);
    await cluster.kill(victim, 'SIGTERM');
    const damaged = await damageLogEntry(cluster.node(victim).dataDir);
    const logFrom = logSize(cluster, victim);
    cluster.restart(victim);
    const code = await exitOf(cluster, victim, 30_000);
    const fatal = fatalLines(cluster, victim, logFrom);
    figure(`${victim} refused to start (exit code ${code}): ${fatal[0]?.slice(0, 300) ?? '(no fatal line)'}`);
    assert.ok(code !== 0 && code !== null, `${victim} exits with a non-zero code (got ${code})`);
    const named = fatal.filter((line) => line.includes(damaged.location) && line.includes(`log entry ${damaged.index} is corrupt`));
    assert.ok(named.length > 0, `a fatal line names ${damaged.location} and entry ${damaged.index}:\n${fatal.join('\n')}`);
    await workload.waitForMoreAcknowledged(20, 30_000);

    await damaged.repair();
    await restoreAll(cluster);
    await stopAndCheck(cluster, workload);
  });

  it('stops a replica whose data directory went back to an older copy, saying which acknowledged entries are gone', async () => {
    // What a disk that loses synced writes, or a volume restored from a backup, leaves behind: a log
    // shorter than what the replica acknowledged. The leader still counts those entries as held there.
    const workload = await startWorkload(cluster);
    await workload.waitForMoreAcknowledged(30, 30_000);
    const victim = await aFollower(cluster);
    const { dataDir } = cluster.node(victim);
    const older = `${dataDir}.older`;
    const newer = `${dataDir}.newer`;
    try {
      await cluster.kill(victim, 'SIGTERM');
      cpSync(dataDir, older, { recursive: true });
      cluster.restart(victim);
      await waitCaughtUp(cluster, victim);
      await workload.waitForMoreAcknowledged(100, 30_000);
      await waitCaughtUp(cluster, victim);
      const acknowledged = (await cluster.status(victim)).lastIndex;
      await cluster.kill(victim, 'SIGTERM');
      renameSync(dataDir, newer);
      renameSync(older, dataDir);
      const logFrom = logSize(cluster, victim);
      cluster.restart(victim);
      const code = await exitOf(cluster, victim, 30_000);
      const fatal = fatalLines(cluster, victim, logFrom);
      figure(`${victim} back on its older copy (it had acknowledged up to ${acknowledged}) exited with code ${code}: ${fatal[0]?.slice(0, 400) ?? '(no fatal line)'}`);
      assert.ok(code !== 0 && code !== null, `${victim} exits with a non-zero code (got ${code})`);
      const named = fatal.filter((line) => /acknowledged entries up to index \d+: entries this replica wrote with fsync and acknowledged are gone/.test(line));
      assert.ok(named.length > 0, `a fatal line says acknowledged entries are gone:\n${fatal.join('\n')}`);
      await workload.waitForMoreAcknowledged(20, 30_000);
    } finally {
      // Its real data back, it catches up as if it had only been stopped.
      if (existsSync(newer)) {
        await cluster.kill(victim, 'SIGKILL');
        rmSync(dataDir, { recursive: true, force: true });
        renameSync(newer, dataDir);
      }
      rmSync(older, { recursive: true, force: true });
    }
    await restoreAll(cluster);
    await stopAndCheck(cluster, workload);
  });
});
