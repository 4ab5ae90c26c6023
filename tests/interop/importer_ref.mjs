// Reference importer: ipfs-unixfs-importer configured like kubo, printing
// "<cid> <relpath>" for every entry it produces. Run from tests/ so the
// imports resolve:
//   node interop/importer_ref.mjs [options] PATH
// Options: --cid-version N, --raw-leaves, --trickle, --chunk N,
//   --links N, --hidden, --wrap, --profile NAME, --fanout-bits N
import fs from 'node:fs'
import path from 'node:path'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced, trickle } from 'ipfs-unixfs-importer/layout'
import { BlackHoleBlockstore } from 'blockstore-core/black-hole'

function parseArgs (argv) {
  const a = { cidVersion: 0, rawLeaves: undefined, trickle: false, chunk: 262144,
    links: 174, hidden: false, wrap: false, profile: undefined, target: undefined,
    fanoutBits: 8 }
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]
    if (k === '--cid-version') a.cidVersion = Number(argv[++i])
    else if (k === '--raw-leaves') a.rawLeaves = true
    else if (k === '--trickle') a.trickle = true
    else if (k === '--chunk') a.chunk = Number(argv[++i])
    else if (k === '--links') a.links = Number(argv[++i])
    else if (k === '--hidden') a.hidden = true
    else if (k === '--wrap') a.wrap = true
    else if (k === '--profile') a.profile = argv[++i]
    else if (k === '--fanout-bits') a.fanoutBits = Number(argv[++i])
    else a.target = k
  }
  // kubo: CIDv1 turns raw leaves on unless told otherwise
  if (a.rawLeaves === undefined) a.rawLeaves = a.cidVersion >= 1
  return a
}

// Candidates in kubo's walk order: entries sorted by bytes, dot-files
// skipped unless hidden, symlinks kept as symlinks.
function * walk (abs, rel, hidden) {
  const st = fs.lstatSync(abs)
  if (st.isSymbolicLink()) {
    yield { path: rel, link: fs.readlinkSync(abs) }
  } else if (st.isDirectory()) {
    yield { path: rel }
    const names = fs.readdirSync(abs)
      .filter(n => hidden || !n.startsWith('.'))
      .sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
    for (const n of names) yield * walk(path.join(abs, n), rel + '/' + n, hidden)
  } else {
    yield { path: rel, content: fs.createReadStream(abs, { highWaterMark: 1 << 20 }) }
  }
}

const a = parseArgs(process.argv.slice(2))
if (a.target === undefined) {
  console.error('usage: importer_ref.mjs [options] PATH')
  process.exit(2)
}
const opts = {
  cidVersion: a.cidVersion,
  rawLeaves: a.rawLeaves,
  wrapWithDirectory: a.wrap,
  reduceSingleLeafToSelf: true,
  leafType: 'file',
  shardFanoutBits: a.fanoutBits
}
if (a.profile !== undefined) {
  opts.profile = a.profile
  delete opts.cidVersion
  delete opts.rawLeaves
} else {
  opts.chunker = fixedSize({ chunkSize: a.chunk })
  if (a.trickle) {
    // kubo's trickle: UnixFS Raw leaves and a root node even over one leaf
    opts.layout = trickle({ maxChildrenPerNode: a.links, layerRepeat: 4 })
    opts.leafType = 'raw'
    opts.reduceSingleLeafToSelf = false
  } else {
    opts.layout = balanced({ maxChildrenPerNode: a.links })
  }
}
const abs = path.resolve(a.target)
const name = path.basename(abs)
for await (const e of importer(walk(abs, name, a.hidden), new BlackHoleBlockstore(), opts)) {
  console.log(`${e.cid.toString()} ${e.path}`)
}
