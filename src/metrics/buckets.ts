// Histogram bucket layouts, in seconds, chosen for what each histogram measures on this hardware
// class (fsync ~0.2–0.5 ms on a local SSD; commit a few ms; snapshots seconds).
import { exponentialBuckets } from 'prom-client';

/** 100 µs … ~3.3 s, doubling: disk writes and fsyncs (etcd's WAL fsync histogram starts at 1 ms; ours is faster). */
export const diskSecondsBuckets: readonly number[] = exponentialBuckets(0.0001, 2, 16);

/** 250 µs … ~8 s, doubling: a proposal from propose() to applied, and applying a batch of entries. */
export const commitSecondsBuckets: readonly number[] = exponentialBuckets(0.00025, 2, 16);

/** 10 ms … ~82 s, doubling: streaming a snapshot to or from a peer. */
export const snapshotSecondsBuckets: readonly number[] = exponentialBuckets(0.01, 2, 14);

/** 100 µs … ~3.3 s, doubling: a Raft message round trip to a peer over the network. */
export const roundTripSecondsBuckets: readonly number[] = exponentialBuckets(0.0001, 2, 16);

/**
 * go-grpc-prometheus's default (prometheus.DefBuckets) with two finer buckets below 5 ms, where
 * most unary chat calls on loopback land.
 */
export const grpcHandlingSecondsBuckets: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
