// Each Pod's own IP: a loopback address from 127.10.0.0/16, held for the Pod's life and unique across every process kubelet on the machine.
import { createSocket, type Socket } from 'node:dgram';
import { createServer } from 'node:net';

/** A Pod's address while the Pod runs; release() hands it back (more than once is harmless). */
export interface PodIP {
  readonly ip: string;
  release(): void;
}

/**
 * The claim that makes an address this kubelet's: a UDP socket bound on `<ip>:65535`. Another kubelet (another process,
 * or another kubelet in this one) that tries the same address gets EADDRINUSE and moves on, and the kernel frees the claim
 * when its kubelet exits however it exits, so a crashed kubelet leaves nothing to clean up. A Pod's TCP ports never collide
 * with it; a Pod that declares UDP port 65535 would.
 */
const claimPort = 65535;
/** The fourth octet runs 1..254, so no address looks like a network or broadcast address. */
const hostsPerBlock = 254;
const poolSize = 256 * hostsPerBlock;
/** Candidates tried before giving up: enough to walk past every Pod one machine's kubelets run. */
const maxAttempts = 1024;

/** Kubelets in different processes start at different places of the pool (7919 is prime, so consecutive pids land far apart). */
let next = (process.pid * 7919) % poolSize;

function address(index: number): string {
  return `127.10.${Math.floor(index / hostsPerBlock)}.${(index % hostsPerBlock) + 1}`;
}

function claim(ip: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind(claimPort, ip, () => {
      socket.removeAllListeners('error');
      // The claim must not keep a test's process alive after it is done.
      socket.unref();
      resolve(socket);
    });
  });
}

/** Whether a process could listen on ip:port now; false also when something listens on the port of every address (0.0.0.0 or ::). */
function portFree(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: ip, port }, () => server.close(() => resolve(true)));
  });
}

/**
 * Claims the next free address of the pool whose `ports` (the Pod's TCP containerPorts) are free as well: a Pod's process
 * left running by a kubelet that was killed still holds its ports, and its address is skipped. Addresses are handed out in
 * turn rather than lowest first, so a Pod that just ended does not pass its address straight to the next.
 */
export async function leasePodIP(ports: number[]): Promise<PodIP> {
  for (let attempt = 0; attempt < maxAttempts; attempt += 1) {
    const ip = address(next);
    next = (next + 1) % poolSize;
    const socket = await claim(ip);
    if (socket === undefined) continue;
    const free = await Promise.all(ports.map((port) => portFree(ip, port)));
    if (free.every(Boolean)) {
      let released = false;
      return {
        ip,
        release() {
          if (released) return;
          released = true;
          socket.close();
        },
      };
    }
    socket.close();
  }
  throw new Error(
    `no free pod IP in 127.10.0.0/16 after ${maxAttempts} tries for ports ${ports.join(', ')}: ` +
      'is a process listening on one of these ports on every address (0.0.0.0 or ::)? Stop it, or make it listen on one address',
  );
}
