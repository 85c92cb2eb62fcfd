// grpc.health.v1 for probes, never tied to being leader. Readiness ('' and the chat services):
// SERVING while this replica is caught up with the leader — a caught-up follower serves reads and
// forwards writes. Liveness ('liveness'): SERVING while the process is healthy, even when it is
// behind or has no quorum; NOT_SERVING only after a fatal error, when a restart is the cure.
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { ReplicaApi } from '../node/types.js';

/** The services whose status is reported: '' is the server as a whole. */
export const healthServiceNames = ['', 'chat.v1.ChatService', 'chat.v1.ClusterService'] as const;
/** The liveness probe's service name. */
export const livenessServiceName = 'liveness';

export class HealthReporter {
  readonly implementation: HealthImplementation;
  private current: ServingStatus = 'NOT_SERVING';
  private failed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly replica: ReplicaApi, pollIntervalMs: number) {
    this.implementation = new HealthImplementation({
      ...Object.fromEntries(healthServiceNames.map((name) => [name, this.current])),
      [livenessServiceName]: 'SERVING',
    });
    replica.events.on('fatal', this.onFatal);
    // isCaughtUp() is a cheap local read; polling keeps the replica free of health concerns.
    this.timer = setInterval(() => this.refresh(), pollIntervalMs);
    this.timer.unref();
    this.refresh();
  }

  /** Re-reads the replica now (also done every poll interval). */
  refresh(): void {
    this.set(!this.failed && this.replica.isCaughtUp() ? 'SERVING' : 'NOT_SERVING');
  }

  /** Reports NOT_SERVING from now on (the server is going away). */
  stop(): void {
    clearInterval(this.timer);
    this.replica.events.off('fatal', this.onFatal);
    this.failed = true;
    this.set('NOT_SERVING');
  }

  private readonly onFatal = (): void => {
    this.failed = true;
    this.implementation.setStatus(livenessServiceName, 'NOT_SERVING');
    this.refresh();
  };

  private set(next: ServingStatus): void {
    if (next === this.current) return;
    this.current = next;
    for (const name of healthServiceNames) this.implementation.setStatus(name, next);
  }
}
