// Reads the job the runtime runs: a StreamJob manifest (YAML or JSON, as the controller's ConfigMap holds it), compiled or refused with every problem.
import { readFile } from 'node:fs/promises';
import { RUNTIME_ENV } from '@sluice/crds';
import { parse } from 'yaml';
import { compileJobOrThrow } from '../compiler/compile.js';
import type { MaskSecrets } from '../compiler/mask.js';
import type { CompiledJob } from '../compiler/job.js';
import { messageOf } from '../error-message.js';
import { ConfigError } from './config.js';

/** `secrets`: what the job runs with (the mask key); a keyed mask step without its key is refused here, before any record is read. */
export async function readJobFile(path: string, secrets: MaskSecrets): Promise<CompiledJob> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the job file ${path} (${RUNTIME_ENV.jobFile}): ${messageOf(error)}`);
  }
  return compileJobOrThrow(parse(text), { secrets });
}
