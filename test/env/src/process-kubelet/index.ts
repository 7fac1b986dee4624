// The test-only process kubelet's public face: start one, map images to commands, find a Pod's address.
export { startProcessKubelet, type ProcessKubelet, type ProcessKubeletOptions } from './kubelet.js';
export { runtimeImages, type ImageCommand, type ImageTable } from './images.js';
export { podAddress, podPorts, portsAnnotation, type PortMap } from './ports.js';
