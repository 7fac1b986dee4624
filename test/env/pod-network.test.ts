// The real node refuses to start on a host where another interface routes its pod network (podman's cni-podman0).
import { conflictingRoutes, hostAddress, podCidr } from './src/pod-network.js';

test("finds a leftover bridge's route to the pod network, and ignores the default route and the node's own bridge", () => {
  // `ip -4 -o route show match 10.88.0.1` on a machine where buildah had made cni-podman0 before the pod bridge took the same subnet.
  const routes = [
    'default via 192.0.2.1 dev eth0 ',
    '10.88.0.0/16 dev cni-podman0 proto kernel scope link src 10.88.0.1 linkdown ',
    '10.88.0.0/16 dev sluice0 proto kernel scope link src 10.88.0.1 ',
    '',
  ].join('\n');
  expect(conflictingRoutes(routes, 'sluice0')).toEqual(['10.88.0.0/16 dev cni-podman0 proto kernel scope link src 10.88.0.1 linkdown']);
  expect(conflictingRoutes('default via 192.0.2.1 dev eth0 \n10.244.0.0/16 dev sluice0 proto kernel scope link src 10.244.0.1 \n', 'sluice0')).toEqual([]);
  // A bridge whose name only starts like the node's is another interface.
  expect(conflictingRoutes('10.244.0.0/16 dev sluice0-old scope link\n', 'sluice0')).toEqual(['10.244.0.0/16 dev sluice0-old scope link']);
});

test("the pod network is not podman's default, and the host address is its first address", () => {
  expect(podCidr).not.toBe('10.88.0.0/16');
  expect(hostAddress).toBe(podCidr.replace(/0\/\d+$/, '1'));
});
