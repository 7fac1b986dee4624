// The argocd-cm entries users paste, generated from deploy/argocd/*/*/health.lua: `npx tsx test/argocd/snippet.ts` rewrites both files.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Document, Scalar, YAMLMap } from 'yaml';
import { checksRoot, group, healthScript, kinds } from './lua.js';

/** The argocd-cm key Argo CD reads a kind's health check from. */
export function configKey(kind: string): string {
  return `resource.customizations.health.${group}_${kind}`;
}

function entries(): YAMLMap {
  const map = new YAMLMap();
  for (const kind of kinds) {
    const script = new Scalar(readFileSync(healthScript(kind), 'utf8'));
    script.type = Scalar.BLOCK_LITERAL;
    map.add({ key: configKey(kind), value: script });
  }
  return map;
}

function render(header: string, contents: unknown): string {
  const document = new Document(contents);
  document.commentBefore = header;
  return document.toString({ lineWidth: 0 });
}

/** A strategic-merge patch of argocd-cm: `kubectl -n argocd patch configmap argocd-cm --patch-file argocd-cm.yaml`, or a kustomize patch. */
export function configMapPatch(): string {
  const header = [
    ' Argo CD health checks for Sluice StreamJob, Topic and SchemaSubject, generated from deploy/argocd/sluice.dev/*/health.lua',
    ' by `npx tsx test/argocd/snippet.ts`; do not edit here. Apply: kubectl -n argocd patch configmap argocd-cm --patch-file deploy/argocd/argocd-cm.yaml',
  ].join('\n');
  return render(header, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'argocd-cm', namespace: 'argocd' }, data: entries() });
}

/** The same entries as values of the argo-cd Helm chart (configs.cm). */
export function helmValues(): string {
  const header = [
    ' Argo CD health checks for Sluice, as values of the argo-cd Helm chart (configs.cm), generated from deploy/argocd/sluice.dev/*/health.lua',
    ' by `npx tsx test/argocd/snippet.ts`; do not edit here. Install: helm upgrade argocd argo/argo-cd -n argocd --reuse-values -f deploy/argocd/argo-cd-values.yaml',
  ].join('\n');
  return render(header, { configs: { cm: entries() } });
}

export const snippetFiles = { 'argocd-cm.yaml': configMapPatch, 'argo-cd-values.yaml': helmValues } as const;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [file, generate] of Object.entries(snippetFiles)) writeFileSync(join(checksRoot, file), generate());
}
