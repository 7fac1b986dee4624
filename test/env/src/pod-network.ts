// The real node's pod network: the bridge's subnet and the host's address on it, where pods reach the test servers.

/**
 * Not podman's and buildah's default 10.88.0.0/16: a buildah that ever ran a container on the bridge network leaves a
 * `cni-podman0` bridge holding 10.88.0.1/16 — down, but its route still wins, and pods could reach neither the host nor a Service.
 */
export const podCidr = '10.244.0.0/16';

/** The node IP: the bridge's address, on which the apiserver, S3, Redis, PostgreSQL and Kafka are forwarded to pods. */
export const hostAddress = '10.244.0.1';

/**
 * Routes of `ip -4 -o route show match <host address>` that send the pod network somewhere other than `bridge`: each
 * would swallow the pods' traffic to the host. The default route and the bridge's own are not conflicts.
 */
export function conflictingRoutes(routes: string, bridge: string): string[] {
  return routes
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('default '))
    .filter((line) => !new RegExp(`\\bdev ${bridge}(\\s|$)`).test(line));
}
