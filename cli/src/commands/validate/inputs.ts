// What `streamctl validate` reads: files as named, `-` for stdin, folders searched recursively for *.yaml and *.yml;
// a missing file or a folder without YAML is one sentence, not a raw ENOENT or EISDIR.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CommandError } from '../../kube/io.js';

export interface Input {
  /** The file's path as given or found, or `<stdin>`. */
  name: string;
  text: string;
}

export interface Inputs {
  inputs: Input[];
  /** Files named on the command line (a shell glob catches sample.jsonl) that are not manifests, passed over. */
  skippedFiles: string[];
}

/**
 * What `-` reaches the command as: yargs drops a lone `-` from positional arguments, so main.ts passes this path, which
 * names stdin on Linux and macOS anyway.
 */
export const stdinArgument = '/dev/stdin';

const isYaml = (file: string): boolean => /\.ya?ml$/i.test(file);

/**
 * A file named on the command line is read unless its extension says it is something else: `job` and /dev/fd/63 (from
 * `<(kustomize build)`) are read, as is .json (YAML reads JSON); sample.jsonl and README.md are passed over.
 */
const namedManifest = (file: string): boolean => isYaml(file) || /\.json$/i.test(file) || !/\.[^./]+$/.test(basename(file));

/** The YAML files under `folder`, sorted so output is the same on every machine; dot folders (.git) left out. */
function yamlFilesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .filter((entry) => !entry.name.startsWith('.'))
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) return yamlFilesUnder(path);
      return entry.isFile() && isYaml(entry.name) ? [path] : [];
    });
}

function kindOf(path: string): 'file' | 'folder' {
  try {
    return statSync(path).isDirectory() ? 'folder' : 'file';
  } catch {
    throw new CommandError(`${path} does not exist; name a YAML file, a folder of them, or - for stdin`);
  }
}

export function readInputs(paths: string[], stdin: () => string = () => readFileSync(0, 'utf8')): Inputs {
  const inputs: Input[] = [];
  const skippedFiles: string[] = [];
  for (const path of paths) {
    if (path === '-' || path === stdinArgument) {
      inputs.push({ name: '<stdin>', text: stdin() });
    } else if (kindOf(path) === 'folder') {
      const files = yamlFilesUnder(path);
      if (files.length === 0) throw new CommandError(`${path} is a folder with no .yaml or .yml files in it; name a folder of manifests, or the files`);
      inputs.push(...files.map((file) => ({ name: file, text: readFileSync(file, 'utf8') })));
    } else if (namedManifest(path)) {
      inputs.push({ name: path, text: readFileSync(path, 'utf8') });
    } else {
      skippedFiles.push(path);
    }
  }
  if (inputs.length === 0) throw new CommandError(`no .yaml or .yml file among ${paths.join(' ')}; name YAML files, a folder of them, or - for stdin`);
  return { inputs, skippedFiles };
}
