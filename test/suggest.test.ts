/** closestName (environments/suggest.ts): "did you mean" for configuration fields and object fields alike. */
import { closestName, editDistance } from '../environments/suggest';

test.each([
  ['replicas', 'replicaz', 1],
  ['replicas', 'repilcas', 1], // neighbours swapped: one edit
  ['', 'abc', 3],
  ['abc', 'abc', 0],
  ['kitten', 'sitting', 3],
])('editDistance(%j, %j) is %i', (a, b, d) => {
  expect(editDistance(a, b)).toBe(d);
  expect(editDistance(b, a)).toBe(d);
});

test.each([
  ['replicaz', ['replicas', 'resources'], 'replicas'],
  ['Replicas', ['replicas'], 'replicas'], // case alone is no edit
  ['minReplica', ['minReplicas', 'maxReplicas'], 'minReplicas'],
  ['tag', ['tags'], 'tags'],
  ['tg', ['tag'], 'tag'],
  ['ab', ['xy'], undefined], // a short key is not "corrected" into another word
  ['image', ['digest', 'tag'], undefined],
  ['metdata', ['metadata', 'spec'], 'metadata'],
  ['specc', [], undefined],
  ['containrs', ['containers', 'initContainers'], 'containers'],
])('closestName(%j) of %j is %j', (key, known, expected) => {
  expect(closestName(key, known)).toBe(expected);
});

test('at most two edits, however long the key', () => {
  expect(closestName('autoscalingBehaviour', ['autoscalingBehavior'])).toBe('autoscalingBehavior');
  expect(closestName('autoscalingBehaviorsXY', ['autoscalingBehavior'])).toBeUndefined();
});

test('of equally close names, the first', () => {
  expect(closestName('cat', ['bat', 'hat'])).toBe('bat');
});
