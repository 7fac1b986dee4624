import type { RuntimeStatus, SavepointRequest } from '@sluice/crds';
import { Registry } from 'prom-client';
import { buildServer, type ControlTarget } from './server.js';

/** A control target that records what it was asked; the end-to-end test drives a real runtime. */
class TestingControlTarget implements ControlTarget {
  ready = false;
  readonly savepoints: SavepointRequest[] = [];

  status(): RuntimeStatus {
    return { job: 'fraud', ordinal: 0, parallelism: 1, phase: 'running', partitions: [{ partition: 0, offset: 5, lag: 0, watermark: 'Infinity' }], recordsIn: 5, recordsOut: 1, lastSavepoint: null };
  }

  savepoint(request: SavepointRequest) {
    this.savepoints.push(request);
    return Promise.resolve({ id: request.id ?? 'sp-1', location: `/tmp/savepoints/${request.id ?? 'sp-1'}`, complete: true });
  }

  stop(options: { savepoint: boolean }) {
    return Promise.resolve({ stopped: true as const, savepoint: options.savepoint ? { id: 'sp-2', location: '/tmp/savepoints/sp-2', complete: true } : null });
  }
}

const auth = { authorization: 'Bearer s3cret' };

describe('the runtime pod’s HTTP surface', () => {
  it('is ready only once the target is', async () => {
    const target = new TestingControlTarget();
    const app = buildServer({ target, registry: new Registry(), controlToken: 's3cret' });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    target.ready = true;
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('refuses control requests without the token, and all of them when no token is configured', async () => {
    const target = new TestingControlTarget();
    const open = buildServer({ target, registry: new Registry(), controlToken: undefined });
    const disabled = await open.inject({ method: 'POST', url: '/savepoints', headers: auth, payload: {} });
    expect(disabled.statusCode).toBe(503);
    expect(disabled.json()).toMatchObject({ code: 'SLUICE_E_CONTROL_DISABLED' });
    const app = buildServer({ target, registry: new Registry(), controlToken: 's3cret' });
    expect((await app.inject({ method: 'GET', url: '/status', headers: { authorization: 'Bearer s3cre' } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/status', headers: { authorization: 's3cret' } })).statusCode).toBe(401);
    expect(target.savepoints).toEqual([]);
  });

  it('answers status, savepoints and stop in the shapes of the control API', async () => {
    const target = new TestingControlTarget();
    let stopped = false;
    const app = buildServer({ target, registry: new Registry(), controlToken: 's3cret', onStopped: () => (stopped = true) });
    expect((await app.inject({ method: 'GET', url: '/status', headers: auth })).json()).toMatchObject({ job: 'fraud', partitions: [{ watermark: 'Infinity' }] });
    const taken = await app.inject({ method: 'POST', url: '/savepoints', headers: auth, payload: { id: 'shared-1' } });
    expect(taken.statusCode).toBe(201);
    expect(taken.json()).toEqual({ id: 'shared-1', location: '/tmp/savepoints/shared-1', complete: true });
    const bad = await app.inject({ method: 'POST', url: '/savepoints', headers: auth, payload: { id: '../x' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'SLUICE_E_BAD_REQUEST' });
    const stop = await app.inject({ method: 'POST', url: '/stop?savepoint=true', headers: auth });
    expect(stop.json()).toEqual({ stopped: true, savepoint: { id: 'sp-2', location: '/tmp/savepoints/sp-2', complete: true } });
    expect(stopped).toBe(true);
  });
});
