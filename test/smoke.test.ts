import { environments } from '../environments/index';
import { resolveEnvironments } from '../environments/load';
import { synthesizeEnvironment } from '../charts/synth';

test('smoke', async () => {
  const envs = resolveEnvironments(environments, process.cwd());
  const r = await synthesizeEnvironment(envs[0]);
  expect(r.problems).toEqual([]);
});
