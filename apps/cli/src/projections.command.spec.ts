import { duration, progressLine } from './projections.command.js';

const running = {
  id: '7',
  status: 'running' as const,
  phase: 'building',
  version: 2,
  targetPosition: '200000',
  position: '50000',
  eventsPerSecond: 41_250,
  etaSeconds: 3.6,
  startedAt: '2026-11-23T03:00:00.000Z',
};

describe('cx projections rebuild progress', () => {
  it('draws a bar sized to the terminal, with the share done, the events per second and the ETA', () => {
    expect(progressLine(['customer360'], running, 120)).toBe(
      'customer360 [##########..............................]  25%  building  50,000/200,000  41,250 ev/s  ETA 4 s',
    );
    expect(progressLine(['customer360'], { ...running, position: '200000', etaSeconds: 0 }, 80)).toBe(
      'customer360 [##########] 100%  building  200,000/200,000  41,250 ev/s  ETA 0 s',
    );
  });

  it('writes a plain line when piped, and names the phase after building without an ETA', () => {
    expect(progressLine(['journey', 'satisfaction'], running, null)).toBe('journey, satisfaction: 25% building, 50,000/200,000, 41,250 ev/s, ETA 4 s');
    expect(progressLine(['journey'], { ...running, phase: 'indexing', position: '200000' }, null)).toBe('journey: 100% indexing, 200,000/200,000, 41,250 ev/s');
  });

  it('says a requested rebuild waits for the process that runs the projection', () => {
    expect(progressLine(['journey'], { ...running, status: 'requested', targetPosition: null, position: '0', eventsPerSecond: null }, 100)).toBe(
      'journey: waiting for the process that runs it to start rebuild 7',
    );
  });

  it('states durations in seconds, minutes or hours', () => {
    expect([duration(null), duration(0.4), duration(59.6), duration(61), duration(3_725)]).toEqual(['-', '0 s', '1 min 0 s', '1 min 1 s', '1 h 2 min']);
  });
});
