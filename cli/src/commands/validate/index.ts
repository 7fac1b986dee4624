// `streamctl validate <file…>`: the API server's schema and CEL rules, then the job compiler, checked locally, every error naming its field.
import { readFileSync } from 'node:fs';
import { type FieldError, validateManifest } from '@sluice/crds';
import { compileJob } from '@sluice/runtime';
import type { CommandModule } from 'yargs';
import { parseAllDocuments } from 'yaml';

interface ValidateArgs {
  files: string[];
}

/** Every problem in the files, one line each, as `file[#doc] kind/name: path: message`. */
export function validateFiles(files: string[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const documents = parseAllDocuments(readFileSync(file, 'utf8'));
    documents.forEach((document, index) => {
      const where = documents.length > 1 ? `${file}#${index + 1}` : file;
      if (document.errors.length > 0) {
        problems.push(...document.errors.map((error) => `${where}: not valid YAML: ${error.message}`));
        return;
      }
      const manifest: unknown = document.toJS();
      if (manifest === null || manifest === undefined) return;
      const name = describe(manifest);
      for (const error of checkManifest(manifest)) problems.push(`${where} ${name}: ${error.path}: ${error.message}`);
    });
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

export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: 'validate <files..>',
  describe: 'check StreamJob, Topic and SchemaSubject manifests against the CRD schemas and their CEL rules, and compile StreamJobs as the runtime will',
  builder: (yargs) =>
    yargs
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'YAML files, several documents each allowed' })
      .example('$0 validate examples/fraud-velocity/*.yaml', 'validate a job with its topics and schema'),
  handler: (args) => {
    const problems = validateFiles(args.files);
    for (const problem of problems) process.stderr.write(`${problem}\n`);
    if (problems.length > 0) {
      process.stderr.write(`${problems.length} problem(s) found; fix the fields named above and run streamctl validate again\n`);
      process.exitCode = 1;
    } else {
      process.stdout.write(`${args.files.length} file(s) valid\n`);
    }
  },
};
