// `streamctl validate --server`: the API server's verdict on each Sluice manifest as a dry-run create; loaded only with
// --server, so offline validation never loads the Kubernetes client.
import { connect } from '../../kube/cluster.js';
import { judgedByServer, serverProblems } from '../../kube/dry-run.js';
import type { ClusterArgs } from '../../kube/options.js';
import { describeManifest, judge, type Document, type Problem } from './index.js';
import { readInputs } from './inputs.js';

/**
 * The API server's problems with the documents, as `file[#doc] kind/name (API server): path: message`. A field the
 * local checks already faulted in that document is left out: the user hears of each mistake once.
 */
export async function serverVerdict(documents: Document[], args: ClusterArgs, local: Problem[]): Promise<string[]> {
  const cluster = connect(args);
  const problems: string[] = [];
  for (const { where, manifest } of documents) {
    if (manifest === undefined || !judgedByServer(manifest)) continue;
    const name = describeManifest(manifest);
    const faulted = new Set(local.filter((problem) => problem.where === where).map((problem) => problem.path));
    for (const error of await serverProblems(cluster, manifest)) {
      if (!faulted.has(error.path)) problems.push(`${where} ${name} (API server): ${error.path}: ${error.message}`);
    }
  }
  return problems;
}

/** The API server's problems with the files' Sluice manifests that the local checks do not already name. */
export function validateFilesOnServer(files: string[], args: ClusterArgs): Promise<string[]> {
  const verdict = judge(readInputs(files).inputs);
  return serverVerdict(verdict.checked, args, verdict.fieldProblems);
}
