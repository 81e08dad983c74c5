import { createServer, type Server, Socket } from 'node:net'

/**
 * A TCP relay in front of a POS: while it is `down`, every connection is reset on arrival, which is what
 * an adapter sees when the POS (or the network to it) is gone. The POS behind it keeps its state.
 */
export interface OutageSwitch {
  /** The POS's base URL with the relay's port in place of the POS's. */
  baseUrl: string
  down(): void
  up(): void
  close(): Promise<void>
}

export async function startOutageSwitch(targetBaseUrl: string): Promise<OutageSwitch> {
  const target = new URL(targetBaseUrl)
  let isDown = false
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    if (isDown) {
      client.resetAndDestroy()
      return
    }
    const upstream = new Socket()
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    upstream.connect(Number(target.port), target.hostname)
    client.pipe(upstream).pipe(client)
    const drop = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', drop)
    upstream.on('error', drop)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no relay port')
  const baseUrl = new URL(targetBaseUrl)
  baseUrl.port = String(address.port)
  return {
    baseUrl: baseUrl.toString().replace(/\/$/, ''),
    down() {
      isDown = true
      // Connections kept alive from before the outage go too.
      for (const s of sockets) s.destroy()
    },
    up() {
      isDown = false
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
