// The runtime pod's security, placement and volumes: Sluice's "restricted" Pod Security defaults, merged with the job's spec.podTemplate (the user's value wins).
import type {
  V1Container,
  V1EnvFromSource,
  V1EnvVar,
  V1PersistentVolumeClaim,
  V1PodSecurityContext,
  V1PodSpec,
  V1ResourceRequirements,
  V1SecurityContext,
  V1TopologySpreadConstraint,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { PodTemplateContainer, PodTemplateSpec, VolumeClaimTemplate } from '@sluice/crds';

/** The runtime container's name: the podTemplate container of this name is merged into it. */
export const runtimeContainerName = 'runtime';
/** The image's user (Dockerfile: useradd --uid 65532), so files on the volumes and the process agree. */
export const runtimeUser = 65532;
export const stateVolume = 'state';
export const tmpVolume = 'tmp';

/**
 * What the Pod Security "restricted" profile asks of a pod: a pod that sets these is admitted in a namespace labelled
 * pod-security.kubernetes.io/enforce=restricted. fsGroup makes a PersistentVolume's files writable by the user.
 */
export const restrictedPodSecurityContext: V1PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: runtimeUser,
  runAsGroup: runtimeUser,
  fsGroup: runtimeUser,
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The container half of the restricted profile, and a read-only root: the runtime writes only to its state and /tmp volumes. */
export const restrictedContainerSecurityContext: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** Sluice's runtime pod before the podTemplate: its one container and its volumes. */
export interface RuntimePod {
  runtime: V1Container;
  volumes: V1Volume[];
  serviceAccountName?: string;
  /** spec.resources, which wins over the podTemplate's runtime container resources. */
  resources?: V1ResourceRequirements;
}

/** The state volume: an emptyDir, unless spec.state.volumeClaimTemplate makes it a claim of the StatefulSet. */
export function stateVolumes(claim: VolumeClaimTemplate | undefined): { volumes: V1Volume[]; claims: V1PersistentVolumeClaim[] } {
  const tmp: V1Volume = { name: tmpVolume, emptyDir: {} };
  if (claim === undefined) return { volumes: [{ name: stateVolume, emptyDir: {} }, tmp], claims: [] };
  return {
    volumes: [tmp],
    claims: [
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name: stateVolume,
          ...(claim.metadata?.labels === undefined ? {} : { labels: claim.metadata.labels }),
          ...(claim.metadata?.annotations === undefined ? {} : { annotations: claim.metadata.annotations }),
        },
        spec: claim.spec,
      },
    ],
  };
}

/**
 * The pod spec: Sluice's pod with the restricted defaults, then the podTemplate merged over it. Security contexts merge
 * field by field (the user's field wins); volumes by name (a user's state or tmp replaces Sluice's); env, envFrom and
 * volumeMounts of the runtime container are added after Sluice's; other containers are added as they are.
 */
export function runtimePodSpec(pod: RuntimePod, template: PodTemplateSpec | undefined): V1PodSpec {
  const userRuntime = template?.containers?.find((container) => container.name === runtimeContainerName);
  const sidecars = (template?.containers ?? []).filter((container) => container.name !== runtimeContainerName) as V1Container[];
  const serviceAccountName = pod.serviceAccountName ?? template?.serviceAccountName;
  return {
    ...(serviceAccountName === undefined ? {} : { serviceAccountName }),
    securityContext: { ...restrictedPodSecurityContext, ...(template?.securityContext as V1PodSecurityContext | undefined) },
    ...placement(template),
    containers: [runtimeContainer(pod, userRuntime), ...sidecars],
    volumes: mergeByName(pod.volumes, template?.volumes ?? []),
  };
}

/** Where the pods may run and at what priority: the podTemplate's, as given. */
function placement(template: PodTemplateSpec | undefined): Partial<V1PodSpec> {
  if (template === undefined) return {};
  const fields: Partial<V1PodSpec> = {
    nodeSelector: template.nodeSelector,
    tolerations: template.tolerations,
    affinity: template.affinity,
    topologySpreadConstraints: template.topologySpreadConstraints as V1TopologySpreadConstraint[] | undefined,
    priorityClassName: template.priorityClassName,
    imagePullSecrets: template.imagePullSecrets,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

function runtimeContainer(pod: RuntimePod, user: PodTemplateContainer | undefined): V1Container {
  const { runtime } = pod;
  const resources = pod.resources ?? user?.resources;
  const envFrom = user?.envFrom as V1EnvFromSource[] | undefined;
  return {
    ...runtime,
    env: [...(runtime.env ?? []), ...((user?.env ?? []) as V1EnvVar[])],
    ...(envFrom === undefined ? {} : { envFrom }),
    ...(resources === undefined ? {} : { resources }),
    securityContext: { ...restrictedContainerSecurityContext, ...(user?.securityContext as V1SecurityContext | undefined) },
    volumeMounts: [...(runtime.volumeMounts ?? []), ...((user?.volumeMounts ?? []) as V1VolumeMount[])],
  };
}

/** Sluice's volumes in their order, each replaced by the user's of the same name, then the user's others. */
function mergeByName(ours: V1Volume[], theirs: V1Volume[]): V1Volume[] {
  const byName = new Map(theirs.map((volume) => [volume.name, volume]));
  return [...ours.map((volume) => byName.get(volume.name) ?? volume), ...theirs.filter((volume) => !ours.some((own) => own.name === volume.name))];
}
