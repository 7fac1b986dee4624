// Deletes a job's savepoints where they are kept (S3 with the job's connection settings and credentials Secret, or a folder).
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { StreamJob } from '@sluice/crds';
import { deleteSnapshot, type S3Settings } from '@sluice/runtime';

export interface JobSavepointStorage {
  delete(job: StreamJob, location: string): Promise<void>;
}

export class KubeSavepointStorage implements JobSavepointStorage {
  readonly #core: CoreV1Api;

  constructor(kubeconfig: KubeConfig) {
    this.#core = kubeconfig.makeApiClient(CoreV1Api);
  }

  async delete(job: StreamJob, location: string): Promise<void> {
    await deleteSnapshot(location, { s3: await this.s3Settings(job) });
  }

  /** spec.connections.s3, with the access key pair read from its credentials Secret (keys accessKeyId, secretAccessKey). */
  private async s3Settings(job: StreamJob): Promise<S3Settings> {
    const s3 = job.spec.connections?.s3;
    const settings: S3Settings = {};
    if (s3?.endpoint !== undefined) settings.endpoint = s3.endpoint;
    if (s3?.region !== undefined) settings.region = s3.region;
    if (s3?.forcePathStyle !== undefined) settings.forcePathStyle = s3.forcePathStyle;
    if (s3?.credentialsSecretRef !== undefined) {
      const secret = await this.#core.readNamespacedSecret({ namespace: job.metadata.namespace!, name: s3.credentialsSecretRef.name });
      const read = (key: string): string => {
        const value = secret.data?.[key];
        if (value === undefined) throw new Error(`Secret ${s3.credentialsSecretRef!.name} has no key ${key}: it needs accessKeyId and secretAccessKey`);
        return Buffer.from(value, 'base64').toString('utf8');
      };
      settings.credentials = { accessKeyId: read('accessKeyId'), secretAccessKey: read('secretAccessKey') };
    }
    return settings;
  }
}
