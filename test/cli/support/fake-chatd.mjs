// A stand-in for `chatd serve` in the supervisor tests: prints its arguments, then stays up until
// signalled. With --ignore-sigterm it ignores SIGTERM, so only SIGKILL stops it.
const argv = process.argv.slice(2);
const ignoreSigterm = argv.includes('--ignore-sigterm');
process.stdout.write(`${JSON.stringify({ pid: process.pid, argv })}\n`);
process.on('SIGTERM', () => {
  if (ignoreSigterm) {
    process.stdout.write('ignoring SIGTERM\n');
    return;
  }
  process.stdout.write('SIGTERM: stopping\n');
  process.exit(0);
});
setInterval(() => undefined, 60_000);
