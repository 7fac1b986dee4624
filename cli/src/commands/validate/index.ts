// `streamctl validate <file…>`: the API server's schema and CEL rules, then the job compiler, checked locally, every
// error naming its field; with --server, also the real API server's verdict on a dry-run create.
import { readFileSync } from 'node:fs';
import { type FieldError, validateManifest } from '@sluice/crds';
import { compileJob } from '@sluice/runtime';
import type { CommandModule } from 'yargs';
import { parseAllDocuments } from 'yaml';
import { clusterOptions, connect, guarded, judgedByServer, processIo, serverProblems, type ClusterArgs, type CommandIo } from '../../kube/index.js';

export interface ValidateArgs extends ClusterArgs {
  files: string[];
  server?: boolean;
}

interface Document {
  /** `file`, or `file#n` in a file of several documents. */
  where: string;
  manifest?: unknown;
  yamlErrors: string[];
}

function documentsOf(file: string): Document[] {
  const documents = parseAllDocuments(readFileSync(file, 'utf8'));
  return documents.map((document, index) => {
    const where = documents.length > 1 ? `${file}#${index + 1}` : file;
    if (document.errors.length > 0) return { where, yamlErrors: document.errors.map((error) => error.message) };
    const manifest: unknown = document.toJS();
    return { where, yamlErrors: [], ...(manifest === null || manifest === undefined ? {} : { manifest }) };
  });
}

/** Every problem in the files, one line each, as `file[#doc] kind/name: path: message`. */
export function validateFiles(files: string[]): string[] {
  const problems: string[] = [];
  for (const { where, manifest, yamlErrors } of files.flatMap(documentsOf)) {
    problems.push(...yamlErrors.map((message) => `${where}: not valid YAML: ${message}`));
    if (manifest === undefined) continue;
    const name = describe(manifest);
    for (const error of checkManifest(manifest)) problems.push(`${where} ${name}: ${error.path}: ${error.message}`);
  }
  return problems;
}

/**
 * The API server's verdict on every Sluice manifest in the files, as `file[#doc] kind/name (API server): path: message`,
 * leaving out what the local checks already said in the same words.
 */
export async function validateFilesOnServer(files: string[], args: ClusterArgs, local: string[]): Promise<string[]> {
  const cluster = connect(args);
  const problems: string[] = [];
  for (const { where, manifest } of files.flatMap(documentsOf)) {
    if (manifest === undefined || !judgedByServer(manifest)) continue;
    const name = describe(manifest);
    for (const error of await serverProblems(cluster, manifest)) {
      if (!local.includes(`${where} ${name}: ${error.path}: ${error.message}`)) problems.push(`${where} ${name} (API server): ${error.path}: ${error.message}`);
    }
  }
  return problems;
}

/**
 * The API server's verdict, then, for a StreamJob, the job compiler's on the manifest as the API server would store it
 * (defaults filled in): what the engine cannot run although the schema allows it. On a field the schema faulted, the
 * compiler's line follows the API server's, as it says the fix; problems beneath that field are left to the next run.
 */
export function checkManifest(manifest: unknown): FieldError[] {
  const { errors, manifest: stored } = validateManifest(manifest);
  if ((manifest as { kind?: unknown }).kind !== 'StreamJob') return errors;
  const compiled = compileJob(stored);
  if (compiled.ok) return errors;
  const faulted = (path: string) => errors.some((error) => path.startsWith(`${error.path}.`) || path.startsWith(`${error.path}[`));
  return [...errors, ...compiled.problems.filter((problem) => !faulted(problem.path))];
}

function describe(manifest: unknown): string {
  const { kind, metadata } = manifest as { kind?: unknown; metadata?: { name?: unknown } };
  return `${typeof kind === 'string' ? kind : '?'}/${typeof metadata?.name === 'string' ? metadata.name : '?'}`;
}

export function validate(args: ValidateArgs, io: CommandIo): Promise<number> {
  return guarded('validate', io, async () => {
    const local = validateFiles(args.files);
    const problems = args.server === true ? [...local, ...(await validateFilesOnServer(args.files, args, local))] : local;
    for (const problem of problems) io.stderr.write(`${problem}\n`);
    if (problems.length > 0) {
      io.stderr.write(`${problems.length} problem(s) found; fix the fields named above and run streamctl validate again\n`);
      return 1;
    }
    io.stdout.write(`${args.files.length} file(s) valid${args.server === true ? '; the API server agrees' : ''}\n`);
    return 0;
  });
}

export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: 'validate <files..>',
  describe: 'check StreamJob, Topic and SchemaSubject manifests against the CRD schemas and their CEL rules, and compile StreamJobs as the runtime will',
  builder: (yargs) =>
    clusterOptions(yargs)
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'YAML files, several documents each allowed' })
      .option('server', {
        type: 'boolean',
        default: false,
        describe: "also send each manifest to the cluster's API server as a dry-run create (nothing is stored), so its installed CRDs judge it",
      })
      .example('$0 validate examples/fraud-velocity/*.yaml', 'validate a job with its topics and schema, offline')
      .example('$0 validate job.yaml --server -n fraud', 'also ask the API server, as kubectl apply --dry-run=server would'),
  handler: async (args) => {
    process.exitCode = await validate(args, processIo);
  },
};
