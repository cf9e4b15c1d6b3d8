import { describe, expect, it } from 'vitest';
import { DescriptorGate } from '../../../src/process/descriptor-gate.js';

describe('DescriptorGate', () => {
  it('admits every start until one finds no descriptor, then three quarters of those running, the rest in order as steps end', () => {
    const gate = new DescriptorGate();
    const started: number[] = [];
    for (let i = 0; i < 8; i++) gate.admit(() => started.push(i));
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // Start 7 found no descriptor: it gives its admission back and waits.
    gate.release();
    expect(gate.exhausted()).toBe(true); // 7 running: at most 5 from now on
    gate.admit(() => started.push(70));
    gate.admit(() => started.push(8));
    gate.release(); // 6 running
    gate.release(); // 5 running
    expect(started.slice(8)).toEqual([]);
    gate.release(); // 4 running: one may start
    expect(started.slice(8)).toEqual([70]);
    gate.release();
    expect(started.slice(8)).toEqual([70, 8]);
  });

  it('says there is nothing to wait for when no step is running', () => {
    const gate = new DescriptorGate();
    gate.admit(() => {});
    gate.release();
    expect(gate.exhausted()).toBe(false);
  });
});
