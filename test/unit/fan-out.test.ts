import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { createFanOut } from '../../src/swarm/fan-out.ts'

const newPeer = async (): Promise<PeerId> => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
const newLeaf = async (): Promise<CID> => CID.createV1(raw.code, await sha256.digest(randomBytes(32)))
const leaves = async (n: number): Promise<CID[]> => await Promise.all(Array.from({ length: n }, newLeaf))

/** A node's view: who is connected and what each has asked it for. */
function view (self: PeerId, wants: Map<PeerId, CID[]>): ReturnType<typeof createFanOut> {
  return createFanOut({ self: self.toString(), peers: () => [...wants.keys()], wantsFrom: (peer) => wants.get(peer) })
}

describe('splitting a transfer among peers fetching the same artifact', () => {
  it('asks every peer when no one else is fetching it', async () => {
    const [self, seeder] = [await newPeer(), await newPeer()]
    const plan = view(self, new Map([[seeder, []]])).plan([seeder.toString()])
    for (const leaf of await leaves(20)) assert.equal(plan(leaf), undefined)
  })

  it('gives each leaf one owner among the fetchers: the owner asks the holders, the others ask the owner alone', async () => {
    const [self, seeder, p, q] = await Promise.all([newPeer(), newPeer(), newPeer(), newPeer()])
    const all = await leaves(240)
    // p and q have asked this node for leaves of the same artifact
    const plan = view(self, new Map([[seeder, []], [p, all.slice(0, 2)], [q, all.slice(0, 1)]])).plan([seeder.toString()])
    const owned = new Map<string, number>()
    for (const leaf of all) {
      const skipped = plan(leaf)
      assert.ok(skipped !== undefined)
      const asked = [seeder, p, q].map(String).filter((id) => !skipped.has(id))
      if (asked.includes(seeder.toString())) {
        assert.deepEqual(asked, [seeder.toString()], 'the owner asks the holder, not the fellow fetchers waiting for it')
        owned.set('self', (owned.get('self') ?? 0) + 1)
      } else {
        assert.equal(asked.length, 1, `a leaf owned by another fetcher is asked of that fetcher alone: ${asked.join(', ')}`)
        owned.set(asked[0]!, (owned.get(asked[0]!) ?? 0) + 1)
      }
    }
    assert.equal(owned.size, 3, 'every fetcher owns some leaves')
    for (const [who, count] of owned) assert.ok(count > 45 && count < 115, `${who} owns ${count} of 240 leaves`)
  })

  it('lets two fetchers that see each other agree on every owner, so each leaf is asked of the holder once', async () => {
    const [a, b, seeder] = await Promise.all([newPeer(), newPeer(), newPeer()])
    const all = await leaves(100)
    const planA = view(a, new Map([[seeder, []], [b, all.slice(0, 1)]])).plan([seeder.toString()])
    const planB = view(b, new Map([[seeder, []], [a, all.slice(0, 1)]])).plan([seeder.toString()])
    for (const leaf of all) {
      const askers = [planA(leaf), planB(leaf)].filter((skipped) => skipped !== undefined && !skipped.has(seeder.toString()))
      assert.equal(askers.length, 1, `${leaf} is asked of the seeder by exactly one of them`)
    }
  })

  it('does not count holders, or peers wanting leaves this transfer has not wanted lately, as fellow fetchers', async () => {
    const [self, seeder, stranger, laggard] = await Promise.all([newPeer(), newPeer(), newPeer(), newPeer()])
    const all = await leaves(300)
    const wants = new Map<PeerId, CID[]>([[seeder, all.slice(0, 5)], [stranger, await leaves(3)], [laggard, []]])
    const plan = view(self, wants).plan([seeder.toString()])
    for (const leaf of all.slice(0, 258)) assert.equal(plan(leaf), undefined)
    // the laggard asks for the first leaf, which this transfer has since forgotten (256 remembered)
    wants.set(laggard, [all[0]!])
    assert.equal(plan(all[258]!), undefined)
    wants.set(laggard, [all[200]!])
    assert.notEqual(plan(all[259]!), undefined)
  })
})
