// The contract every server of the test environment fulfils, and the endpoints file the tests read.
import type { EnvPaths } from './proc.js';

export interface KafkaEndpoint {
  brokers: string[];
  /** The shared broker's SASL_SSL listener (absent on a private cluster): ACLs enforced, users without any ACL but the admin. */
  sasl?: KafkaSaslEndpoint;
}
export interface KafkaSaslEndpoint {
  brokers: string[];
  /** Paths of PEM files: the CA that signed the broker's certificate, and a client certificate and key it signed (mTLS). */
  ca: string;
  clientCertificate: string;
  clientKey: string;
  /** A super user. */
  admin: string;
  /** Each user's password, for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 alike. */
  passwords: Record<string, string>;
}
export interface KubeEndpoint {
  /** Path of an admin kubeconfig (CN=admin, O=system:masters). */
  kubeconfig: string;
  server: string;
}
export interface S3Endpoint {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: true;
}
export interface RedisEndpoint {
  url: string;
}
export interface PostgresEndpoint {
  url: string;
}

export interface Endpoints {
  kafka: KafkaEndpoint;
  kube: KubeEndpoint;
  s3: S3Endpoint;
  redis: RedisEndpoint;
  postgres: PostgresEndpoint;
}

/** One server: `start` is idempotent (an already healthy server is reused) and returns its endpoint. */
export interface Service<E> {
  name: keyof Endpoints;
  start(paths: EnvPaths): Promise<E>;
  stop(paths: EnvPaths): Promise<void>;
}
