// IPNS records made by independent code for tests/interop/ipns_js.sh:
// keys and signatures from @libp2p/crypto (the js-libp2p reference), the
// signed data from @ipld/dag-cbor, the IpnsEntry protobuf written here by
// hand from the spec (ipfs/specs, IPNS Record). One line per record:
//   want name-base58 record-hex case
// where want is "ok" or "bad".
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import * as dagCbor from '@ipld/dag-cbor'

const te = new TextEncoder()
const hex = (b) => Buffer.from(b).toString('hex')

function varint (n) {
  const out = []
  let v = BigInt(n)
  while (v >= 0x80n) { out.push(Number(v & 0x7fn) | 0x80); v >>= 7n }
  out.push(Number(v))
  return out
}
const fieldBytes = (f, b) => [...varint((f << 3) | 2), ...varint(b.length), ...b]
const fieldVarint = (f, n) => [...varint(f << 3), ...varint(n)]

async function record (key, o) {
  const value = te.encode(o.value ?? '/ipfs/bafkqaddwgevxmmraojswg33smq')
  const validity = te.encode(o.validity ?? new Date(Date.now() + 3600e3).toISOString())
  const seq = o.seq ?? 1
  const ttl = 60e9
  const doc = { Value: value, Validity: validity, ValidityType: 0, Sequence: seq, TTL: ttl }
  if (o.extra) doc.Extra = 'an extension'
  const data = dagCbor.encode(doc)
  const sig2 = await key.sign(new Uint8Array([...te.encode('ipns-signature:'), ...data]))
  if (o.breakSig2) sig2[5] ^= 1
  let pb = []
  if (o.v1) {
    const v1value = o.v1value ? te.encode(o.v1value) : value
    const sig1 = await key.sign(new Uint8Array([...v1value, ...validity, ...te.encode('EOL')]))
    pb.push(...fieldBytes(1, v1value), ...fieldBytes(2, sig1), ...fieldVarint(3, 0),
      ...fieldBytes(4, validity), ...fieldVarint(5, seq), ...fieldVarint(6, ttl))
  }
  if (o.embed) pb.push(...fieldBytes(7, publicKeyToProtobuf(key.publicKey)))
  pb.push(...fieldBytes(8, sig2), ...fieldBytes(9, data))
  return new Uint8Array(pb)
}

const ed = await generateKeyPair('Ed25519')
const ed2 = await generateKeyPair('Ed25519')
const rsa = await generateKeyPair('RSA', 2048)
const edName = peerIdFromPrivateKey(ed).toString()
const ed2Name = peerIdFromPrivateKey(ed2).toString()
const rsaName = peerIdFromPrivateKey(rsa).toString()
const cases = [
  ['ok', edName, ed, {}, 'Ed25519, V2 only'],
  ['ok', edName, ed, { v1: true, seq: 7 }, 'Ed25519, V1+V2'],
  ['ok', edName, ed, { extra: true }, 'Ed25519, extra key in the signed data'],
  ['ok', edName, ed, { embed: true }, 'Ed25519, key embedded too'],
  ['ok', rsaName, rsa, { embed: true, v1: true }, 'RSA 2048, key embedded'],
  ['bad', edName, ed, { v1: true, v1value: '/ipfs/bafkqaaa' }, 'V1 value differs from the signed one'],
  ['bad', edName, ed, { breakSig2: true }, 'V2 signature broken'],
  ['bad', edName, ed, { validity: new Date(Date.now() - 60e3).toISOString() }, 'expired'],
  ['bad', rsaName, rsa, {}, 'RSA name without the key'],
  ['bad', ed2Name, ed, {}, 'signed by another key than the name'],
  ['bad', edName, ed2, { embed: true }, 'another key, embedded']
]
for (const [want, name, key, o, what] of cases) {
  console.log(want, name, hex(await record(key, o)), what)
}
