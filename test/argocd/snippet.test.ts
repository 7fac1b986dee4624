// The argocd-cm snippet and the argo-cd Helm values users paste embed exactly the health.lua files the tests run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { checksRoot, healthScript, kinds } from './lua.js';
import { configKey, snippetFiles } from './snippet.js';

const committed = (file: string): string => readFileSync(join(checksRoot, file), 'utf8');

test.each(Object.keys(snippetFiles))('%s is what `npx tsx test/argocd/snippet.ts` writes (regenerate it after editing a health.lua)', (file) => {
  expect(committed(file)).toBe(snippetFiles[file as keyof typeof snippetFiles]());
});

test('argocd-cm.yaml holds each kind’s health.lua byte for byte under resource.customizations.health.sluice.dev_<Kind>', () => {
  const data = (parse(committed('argocd-cm.yaml')) as { data: Record<string, string> }).data;
  expect(Object.keys(data).sort()).toEqual(kinds.map(configKey).sort());
  for (const kind of kinds) expect(data[configKey(kind)]).toBe(readFileSync(healthScript(kind), 'utf8'));
});

test('argo-cd-values.yaml holds the same entries under configs.cm', () => {
  const cm = (parse(committed('argo-cd-values.yaml')) as { configs: { cm: Record<string, string> } }).configs.cm;
  expect(cm).toEqual((parse(committed('argocd-cm.yaml')) as { data: Record<string, string> }).data);
});
