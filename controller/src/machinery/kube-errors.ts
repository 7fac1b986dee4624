// Reading the HTTP status out of @kubernetes/client-node's errors.
import { ApiException } from '@kubernetes/client-node';

export function statusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

export const isNotFound = (error: unknown): boolean => statusCode(error) === 404;
export const isConflict = (error: unknown): boolean => statusCode(error) === 409;
