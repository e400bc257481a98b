import { describe, expect, it } from 'vitest';
import { coPartition } from './assigner.ts';

describe('co-partitioned assignment', () => {
  it('gives each member the same partition numbers of every topic, all partitions once', () => {
    const parts = new Map([
      ['otlp_logs', [0, 1, 2, 3]],
      ['otlp_spans', [0, 1, 2, 3]],
    ]);
    const a = coPartition(['m-b', 'm-a'], parts);
    expect(a.get('m-a')).toEqual({ otlp_logs: [0, 2], otlp_spans: [0, 2] });
    expect(a.get('m-b')).toEqual({ otlp_logs: [1, 3], otlp_spans: [1, 3] });
  });

  it('handles topics with different partition counts and more members than partitions', () => {
    const a = coPartition(['a', 'b', 'c'], new Map([['x', [0, 1]], ['y', [0, 1, 2, 3]]]));
    expect(a.get('a')).toEqual({ x: [0], y: [0, 3] });
    expect(a.get('b')).toEqual({ x: [1], y: [1] });
    expect(a.get('c')).toEqual({ y: [2] });
    const none = coPartition(['a', 'b', 'c', 'd', 'e'], new Map([['x', [0]]]));
    expect(none.get('e')).toEqual({});
  });
});
