// Helia peer for tests/interop/bitswap_helia.sh and scripts/bench-bitswap.sh.
//   node bitswap_helia.mjs serve PATH            import PATH (file or dir),
//        print {"cid", "addr"} as one JSON line, serve until stdin closes
//   node bitswap_helia.mjs fetch CID OUT MADDR   dial MADDR, export CID (a
//        file or a tree) into OUT by bitswap, print {"ms", "bytes"}
// Helia from the npm registry: libp2p over TCP on 127.0.0.1, Noise, yamux,
// identify, ping; bitswap is Helia's own block broker.
import './promise_shim.mjs'
import { createHeliaLight } from 'helia'
import { withLibp2pLight } from '@helia/libp2p'
import { withBitswap } from '@helia/bitswap'
import { unixfs } from '@helia/unixfs'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import fs from 'node:fs'
import { setMaxListeners } from 'node:events'
import path from 'node:path'

// A large fetch keeps many AbortSignals alive at once; Node's default
// limit of 10 listeners only prints a warning that is not ours to fix.
setMaxListeners(Infinity)

async function makeHelia () {
  const helia = createHeliaLight({})
  withLibp2pLight(helia, {
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping() }
  })
  withBitswap(helia)
  await helia.start()
  return helia
}

// Files as kubo's default `add` would chunk them are not needed here: the
// reader checks bytes, not CIDs.
async function * walk (dir, base) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name < b.name ? -1 : 1)) {
    const p = path.join(dir, e.name)
    const rel = path.join(base, e.name)
    if (e.isDirectory()) {
      yield { path: rel }
      yield * walk(p, rel)
    } else {
      yield { path: rel, content: fs.createReadStream(p) }
    }
  }
}

async function serve (src) {
  const helia = await makeHelia()
  const fsx = unixfs(helia)
  let cid
  if (fs.statSync(src).isDirectory()) {
    const name = path.basename(src)
    for await (const e of fsx.addAll((async function * () {
      yield { path: name }
      yield * walk(src, name)
    })(), { wrapWithDirectory: false })) {
      if (e.path === name) cid = e.cid
    }
  } else {
    cid = await fsx.addByteStream(fs.createReadStream(src))
  }
  const addr = helia.libp2p.getMultiaddrs().find(a => a.toString().includes('127.0.0.1'))
  console.log(JSON.stringify({ cid: cid.toString(), addr: addr.toString() }))
  await new Promise(resolve => {
    process.stdin.on('end', resolve)
    process.stdin.on('close', resolve)
    process.stdin.resume()
  })
  await helia.stop()
}

async function exportTo (fsx, cid, out, signal) {
  const st = await fsx.stat(cid, { signal })
  if (st.type === 'directory') {
    fs.mkdirSync(out, { recursive: true })
    let n = 0
    for await (const e of fsx.ls(cid, { signal })) {
      n += await exportTo(fsx, e.cid, path.join(out, e.name), signal)
    }
    return n
  }
  const fd = fs.openSync(out, 'w')
  let n = 0
  try {
    for await (const chunk of fsx.cat(cid, { signal })) {
      fs.writeSync(fd, chunk)
      n += chunk.length
    }
  } finally {
    fs.closeSync(fd)
  }
  return n
}

async function fetch (cidStr, out, maddr) {
  const helia = await makeHelia()
  const fsx = unixfs(helia)
  await helia.libp2p.dial(multiaddr(maddr))
  const t0 = Date.now()
  const bytes = await exportTo(fsx, CID.parse(cidStr), out, AbortSignal.timeout(300000))
  console.log(JSON.stringify({ ms: Date.now() - t0, bytes }))
  await helia.stop()
}

const [mode, ...args] = process.argv.slice(2)
try {
  if (mode === 'serve') await serve(args[0])
  else if (mode === 'fetch') await fetch(args[0], args[1], args[2])
  else throw new Error(`unknown mode ${mode}`)
  process.exit(0)
} catch (err) {
  console.error(`helia: ${err.stack ?? err}`)
  process.exit(1)
}
