// The API server's checks of a custom resource's metadata that a manifest can fail: its name and namespace.
import { fieldError, type FieldError } from './field-error.js';
import { isObject } from './structural.js';

const label = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const subdomain = `${label}(\\.${label})*`;

/** apimachinery's RegexError wording, examples and all. */
function regexError(message: string, format: string, examples: string[]): string {
  return `${message} (e.g. ${examples.map((example) => `'${example}', `).join(' or ')}regex used for validation is '${format}')`;
}

function subdomainErrors(name: string): string[] {
  const errors: string[] = [];
  if (name.length > 253) errors.push('must be no more than 253 characters');
  if (!new RegExp(`^${subdomain}$`).test(name)) {
    errors.push(
      regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        subdomain,
        ['example.com'],
      ),
    );
  }
  return errors;
}

function labelErrors(name: string): string[] {
  const errors: string[] = [];
  if (name.length > 63) errors.push('must be no more than 63 characters');
  if (!new RegExp(`^${label}$`).test(name)) {
    errors.push(
      regexError(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
        label,
        ['my-name', '123-abc'],
      ),
    );
  }
  return errors;
}

/** The errors for metadata.name and metadata.namespace; `blocking` when the name is missing. */
export function checkMetadata(metadata: unknown): { errors: FieldError[]; blocking: boolean } {
  const meta = isObject(metadata) ? metadata : {};
  const errors: FieldError[] = [];
  if (typeof meta.name !== 'string' || meta.name === '') {
    if (typeof meta.generateName !== 'string' || meta.generateName === '') {
      return { errors: [fieldError.required('metadata.name', 'name or generateName is required')], blocking: true };
    }
  } else {
    errors.push(...subdomainErrors(meta.name).map((detail) => fieldError.invalid('metadata.name', meta.name, detail)));
  }
  if (typeof meta.namespace === 'string' && meta.namespace !== '') {
    errors.push(...labelErrors(meta.namespace).map((detail) => fieldError.invalid('metadata.namespace', meta.namespace, detail)));
  }
  return { errors, blocking: false };
}
