/** @sluice/registry: a Confluent Schema Registry-compatible REST service; the server arrives with issue 4. */
export const registryPackage = '@sluice/registry';
