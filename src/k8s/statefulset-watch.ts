// Keeps this pod's view of its StatefulSet's spec.replicas current through list+watch (an informer
// from @kubernetes/client-node: resourceVersion resumes, 410 Gone relists), restarting after errors.

import { EventEmitter } from 'node:events';
import { ApiException, AppsV1Api, KubeConfig, ListWatch, Watch, type V1StatefulSet } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface StatefulSetWatchEvents {
  /** spec.replicas changed (or was first seen); undefined when the StatefulSet was deleted. */
  replicas: [number | undefined];
}

export interface StatefulSetWatchOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  statefulSet: string;
  logger: Logger;
  /** Longest wait between restarts after the API server failed (default 10 000 ms). */
  maxRetryDelayMs?: number;
}

export class StatefulSetWatch {
  readonly events = new EventEmitter<StatefulSetWatchEvents>();
  private readonly informer: ListWatch<V1StatefulSet>;
  private readonly api: AppsV1Api;
  private readonly log: Logger;
  private current: number | undefined;
  private seen = false;
  private stopped = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StatefulSetWatchOptions) {
    this.log = options.logger;
    const api = options.kubeConfig.makeApiClient(AppsV1Api);
    this.api = api;
    const fieldSelector = `metadata.name=${options.statefulSet}`;
    const path = `/apis/apps/v1/namespaces/${options.namespace}/statefulsets`;
    // makeInformer takes no field selector; ListWatch is the same informer with one.
    this.informer = new ListWatch<V1StatefulSet>(
      path,
      new Watch(options.kubeConfig),
      () => api.listNamespacedStatefulSet({ namespace: options.namespace, fieldSelector }),
      false,
      undefined,
      fieldSelector,
    );
    this.informer.on('add', (sts) => this.observe(sts));
    this.informer.on('update', (sts) => this.observe(sts));
    this.informer.on('delete', () => this.observe(undefined));
    this.informer.on('connect', () => this.log.debug({ resourceVersion: this.informer.latestResourceVersion() }, 'watching the StatefulSet'));
    this.informer.on('error', (err: unknown) => this.restartLater(err));
  }

  /** spec.replicas as last seen; undefined until the first list, or after the StatefulSet was deleted. */
  replicas(): number | undefined {
    return this.current;
  }

  /**
   * Reads the StatefulSet now, bypassing the watch: a pod told to stop may be told before its watch
   * delivers the scale-down that caused it. Falls back to the last seen value on any error.
   */
  async refresh(timeoutMs: number): Promise<number | undefined> {
    try {
      const read = this.api.readNamespacedStatefulSet({ name: this.options.statefulSet, namespace: this.options.namespace });
      const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs).unref());
      const sts = await Promise.race([read, timeout]);
      if (sts !== undefined) this.observe(sts);
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) {
        this.observe(undefined);
        return undefined;
      }
      this.log.debug({ err: (err as Error).message }, 'reading the StatefulSet failed; using the last value seen');
    }
    return this.current;
  }

  async start(): Promise<void> {
    await this.informer.start();
  }

  /** Resolves once spec.replicas is known (the first list succeeded and found the StatefulSet). */
  async waitForReplicas(signal?: AbortSignal): Promise<number> {
    while (this.current === undefined) {
      if (this.stopped || signal?.aborted === true) throw new Error('stopped while waiting for the StatefulSet');
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.events.off('replicas', done);
          resolve();
        };
        const timer = setTimeout(done, 1000);
        this.events.on('replicas', done);
      });
    }
    return this.current;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.informer.stop();
  }

  private observe(sts: V1StatefulSet | undefined): void {
    this.failures = 0;
    const replicas = sts === undefined ? undefined : (sts.spec?.replicas ?? 1);
    if (this.seen && replicas === this.current) return;
    this.seen = true;
    this.log.info(
      { statefulSet: this.options.statefulSet, replicas, was: this.current },
      sts === undefined ? 'StatefulSet deleted: membership changes paused' : 'StatefulSet spec.replicas observed',
    );
    this.current = replicas;
    this.events.emit('replicas', replicas);
  }

  /** The informer does not restart itself after an error (only after a clean close or a 410). */
  private restartLater(err: unknown): void {
    if (this.stopped) return;
    this.failures++;
    const delayMs = Math.min(this.options.maxRetryDelayMs ?? 10_000, 250 * 2 ** Math.min(this.failures, 6));
    this.log.warn(
      { err: (err as Error | undefined)?.message ?? String(err), retryInMs: delayMs, failures: this.failures },
      'watching the StatefulSet failed; retrying (check the API server and the Role: get/list/watch statefulsets)',
    );
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) void this.informer.start();
    }, delayMs);
  }
}
