// Checking a JSON Schema against its own metaschema (draft-07 by default, 2019-09 and 2020-12 when `$schema` names them), as Confluent refuses malformed ones.
import { Ajv } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';

// strict: false because schemas carry annotations and vendor keywords that are not errors.
const validators = [
  { matches: (uri: string) => uri.includes('2020-12'), ajv: new Ajv2020({ strict: false }) },
  { matches: (uri: string) => uri.includes('2019-09'), ajv: new Ajv2019({ strict: false }) },
  { matches: (uri: string) => uri === '' || uri.includes('draft-07'), ajv: new Ajv({ strict: false }) },
];

/** What is wrong with the schema as a JSON Schema, or undefined when it is well formed or its draft is one we do not hold. */
export function jsonSchemaProblems(document: unknown): string | undefined {
  const declared =
    typeof document === 'object' && document !== null && typeof (document as { $schema?: unknown }).$schema === 'string'
      ? (document as { $schema: string }).$schema
      : '';
  const validator = validators.find((v) => v.matches(declared))?.ajv;
  if (!validator || typeof document === 'boolean') return undefined;
  const valid = validator.validateSchema(document as object) as boolean;
  return valid ? undefined : validator.errorsText(validator.errors, { dataVar: 'schema' });
}
