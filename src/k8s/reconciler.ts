// Runs in every replica and acts only while it is the leader: on every StatefulSet change, role
// change and periodic resync it computes the next step (reconcile-plan.ts) and carries out one
// membership change at a time, waiting until it is applied before looking again.

import type { Logger } from 'pino';
import type { ReplicaApi, ReplicaRole } from '../node/types.js';
import { planNextStep, type PlanStep } from './reconcile-plan.js';
import type { StatefulSetWatch } from './statefulset-watch.js';

export interface ReconcilerOptions {
  replica: ReplicaApi;
  statefulSet: StatefulSetWatch;
  statefulSetName: string;
  logger: Logger;
  /** Look again this often even without events (members come and go without a watch event). */
  resyncIntervalMs?: number;
  /** Deadline of one membership change (default 15 000 ms). */
  changeTimeoutMs?: number;
}

export class Reconciler {
  private readonly log: Logger;
  private running = false;
  private again = false;
  private stopped = false;
  private readonly timer: NodeJS.Timeout;
  private lastReason = '';
  private readonly onChange = () => this.kick();
  private readonly onRole = (role: ReplicaRole) => {
    if (role === 'leader') this.log.info({}, 'became leader: reconciling membership with the StatefulSet');
    this.kick();
  };

  constructor(private readonly options: ReconcilerOptions) {
    this.log = options.logger;
    options.statefulSet.events.on('replicas', this.onChange);
    options.replica.events.on('role', this.onRole);
    this.timer = setInterval(() => this.kick(), options.resyncIntervalMs ?? 2_000);
    this.kick();
  }

  /** Runs a pass soon; passes never overlap (one membership change at a time). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.loop().finally(() => {
      this.running = false;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.options.statefulSet.events.off('replicas', this.onChange);
    this.options.replica.events.off('role', this.onRole);
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      let step: PlanStep;
      do {
        const status = this.options.replica.status();
        step = planNextStep({
          selfId: status.nodeId,
          role: status.role,
          statefulSet: this.options.statefulSetName,
          replicas: this.options.statefulSet.replicas(),
          members: status.members,
        });
        if (!(await this.carryOut(step))) break;
      } while (!this.stopped);
    } while (this.again && !this.stopped);
  }

  /** Carries out one step; true when it changed something (so look again at once). */
  private async carryOut(step: PlanStep): Promise<boolean> {
    const deadlineMs = Date.now() + (this.options.changeTimeoutMs ?? 15_000);
    switch (step.kind) {
      case 'idle':
        if (step.reason !== this.lastReason && step.reason !== 'not the leader') this.log.debug({ reason: step.reason }, 'membership matches');
        this.lastReason = step.reason;
        return false;
      case 'wait':
        if (step.reason !== this.lastReason) this.log.warn({ reason: step.reason }, 'membership should shrink but it is not safe yet; waiting');
        this.lastReason = step.reason;
        return false;
      case 'remove':
        this.lastReason = '';
        this.log.info({ member: step.memberId, reason: step.reason }, 'removing member beyond spec.replicas');
        try {
          await this.options.replica.removeMember(step.memberId, { deadlineMs });
          this.log.info({ member: step.memberId }, 'member removed (its PersistentVolumeClaim is kept; delete it to free the disk)');
          return true;
        } catch (err) {
          this.log.warn({ err: (err as Error).message, member: step.memberId }, 'removing the member failed; will retry');
          return false;
        }
      case 'transfer-leadership':
        this.lastReason = '';
        this.log.info({ to: step.to, reason: step.reason }, 'handing leadership over before this member is removed');
        try {
          await this.options.replica.transferLeadership(step.to, { deadlineMs });
        } catch (err) {
          this.log.warn({ err: (err as Error).message, to: step.to }, 'leadership transfer failed; will retry');
        }
        return false;
    }
  }
}
