// (b) The other direction: ocean.js (@oceanprotocol/lib) publishes an asset on kelp's devnet the
// way its `createAsset` helper does — NftFactory.createNftWithDatatokenWithDispenser, the files
// object and then the DDO encrypted by kelp's node (ProviderInstance.encrypt, signed with
// ocean.js's own request signature), Nft.setMetadata with flags 2 and the sha256 of the DDO's
// JSON.stringify form — and kelp indexes it: `kelp ocean show` prints the DDO ocean.js set and
// `kelp ocean get` orders and downloads the same bytes ocean.js published (a url file served
// from loopback by this test).
//
// The first test runs createAsset's steps one by one (the hash computed here as Ocean Node's
// validate computes it: sha256 of JSON.stringify(ddo)); the second calls createAsset itself,
// which gets the hash from the node's Aquarius `ddo/validate` route.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { ethers, lib, oceanConfig, startDevnet } from './devnet.mjs'

const BYTES = Buffer.from('when,where,what\n2026-03-01,reef A,plankton bloom\n2026-03-04,reef B,clear\n')
const NAME = 'ocean.js Reef Log'
let devnet, config, server, fileUrl

before(async () => {
  devnet = await startDevnet()
  config = oceanConfig(devnet)
  server = http.createServer((req, res) => {
    if (req.url !== '/reef-log.csv') return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'text/csv' }).end(BYTES)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  fileUrl = `http://127.0.0.1:${server.address().port}/reef-log.csv`
})
after(async () => {
  server?.close()
  if (devnet) await devnet.stop()
})

/** Publish a free (dispenser) asset with ocean.js's wrappers; returns {did, nft, datatoken, ddo, tx}. */
async function publishWithOceanJs(owner) {
  const me = await owner.getAddress()
  const factory = new lib.NftFactory(config.nftFactoryAddress, owner, config.chainId, config)
  const created = await factory.createNftWithDatatokenWithDispenser(
    { name: NAME, symbol: 'OJSREEF', templateIndex: 1, tokenURI: 'https://example.invalid/reef', transferable: true, owner: me },
    { templateIndex: 1, cap: '100000', feeAmount: '0', paymentCollector: me, feeToken: config.oceanTokenAddress, minter: me, mpFeeAddress: lib.ZERO_ADDRESS },
    { dispenserAddress: config.dispenserAddress, maxTokens: '1', maxBalance: '100000000', withMint: true, allowedSwapper: lib.ZERO_ADDRESS }
  )
  const receipt = await created.wait()
  const nftAddress = lib.getEventFromTx(receipt, 'NFTCreated').args.newTokenAddress
  const datatoken = lib.getEventFromTx(receipt, 'TokenCreated').args.newTokenAddress
  const files = { nftAddress, datatokenAddress: datatoken, files: [{ type: 'url', url: fileUrl, method: 'GET' }] }
  const encryptedFiles = await lib.ProviderInstance.encrypt(files, config.chainId, devnet.node, owner)
  assert.match(encryptedFiles, /^0x[0-9a-f]+$/, `encrypt answered ${encryptedFiles.slice(0, 200)}`)
  const did = 'did:op:' + createHash('sha256').update(ethers.getAddress(nftAddress) + config.chainId).digest('hex')
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  const ddo = {
    '@context': ['https://w3id.org/did/v1'],
    id: did,
    version: '4.1.0',
    chainId: config.chainId,
    nftAddress,
    metadata: { created: now, updated: now, type: 'dataset', name: NAME, description: 'published by ocean.js', author: me, license: 'MIT' },
    services: [{ id: '0', type: 'access', files: encryptedFiles, datatokenAddress: datatoken, serviceEndpoint: devnet.node, timeout: 0 }]
  }
  const document = await lib.ProviderInstance.encrypt(ddo, config.chainId, devnet.node, owner)
  assert.match(document, /^0x[0-9a-f]+$/, `encrypt answered ${document.slice(0, 200)}`)
  const hash = '0x' + createHash('sha256').update(JSON.stringify(ddo)).digest('hex')
  const { providerAddress } = await (await fetch(devnet.node)).json()
  const nft = new lib.Nft(owner, config.chainId, config)
  const set = await nft.setMetadata(nftAddress, me, 0, devnet.node, providerAddress, ethers.toBeHex(2), document, hash)
  const setReceipt = await set.wait()
  assert.equal(setReceipt.status, 1)
  return { did, nft: nftAddress, datatoken, ddo, tx: setReceipt.hash, hash }
}

test('kelp indexes, shows and consumes an asset ocean.js published', async () => {
  const owner = devnet.wallet(6)
  const pub = await publishWithOceanJs(owner)
  // ocean.js's own Aquarius client sees kelp's node index it
  const indexed = await new lib.Aquarius(devnet.node).waitForIndexer(pub.did, null, null, 200, 150)
  assert.ok(indexed, `kelp's node never indexed ${pub.did}`)
  assert.equal(indexed.id, pub.did)

  // kelp shows the DDO ocean.js encrypted and hashed, plus the node's own indexing fields
  const shown = await devnet.kelp('ocean', 'show', pub.did)
  for (const k of Object.keys(pub.ddo)) assert.deepEqual(shown[k], pub.ddo[k], `field ${k} differs`)
  // … from ocean.js's setMetadata transaction (kelp's indexer shape, or Ocean Node's indexedMetadata)
  assert.equal(shown.event?.tx ?? shown.indexedMetadata?.event?.txid, pub.tx)
  assert.equal(shown.metadata.name, NAME)

  // another account gets it through kelp: dispenser, startOrder, download through kelp's node
  const out = path.join(devnet.home, 'from-oceanjs.csv')
  const got = await devnet.kelp('ocean', 'get', pub.did, '-o', out, '--account', '2')
  assert.deepEqual(readFileSync(out), BYTES)
  assert.equal(got.acquired, 'dispenser')
  assert.equal(ethers.getAddress(got.datatoken), ethers.getAddress(pub.datatoken))

  // the order kelp sent, as ocean.js's datatoken ABI reads it: for account #2, service 0
  const receipt = await devnet.provider.getTransactionReceipt(got.order_tx)
  const dt = new ethers.Contract(pub.datatoken, new lib.Datatoken(owner, config.chainId, config).abi, devnet.provider)
  const orders = receipt.logs.filter((l) => l.address === ethers.getAddress(pub.datatoken)).map((l) => dt.interface.parseLog(l)).filter((e) => e?.name === 'OrderStarted')
  const consumer = await devnet.wallet(2).getAddress()
  assert.equal(orders.length, 1)
  assert.equal(orders[0].args.consumer, consumer)
  assert.equal(orders[0].args.payer, consumer)
  assert.equal(orders[0].args.serviceIndex, 0n)
})

test("ocean.js's createAsset publishes through kelp's node (validate, encrypt) and kelp consumes it", async () => {
  const owner = devnet.wallet(5)
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  const name = 'ocean.js createAsset Reef Log'
  const ddo = {
    '@context': ['https://w3id.org/did/v1'],
    id: 'did:op:', // createAsset derives the DID from the NFT it creates
    version: '4.1.0',
    chainId: config.chainId,
    nftAddress: lib.ZERO_ADDRESS,
    metadata: { created: now, updated: now, type: 'dataset', name, description: 'createAsset on kelp', author: await owner.getAddress(), license: 'MIT' },
    services: [{ id: '0', type: 'access', files: '', datatokenAddress: lib.ZERO_ADDRESS, serviceEndpoint: devnet.node, timeout: 0 }],
    stats: { price: { value: '0' } } // createAsset's way of asking for a dispenser
  }
  const aquarius = new lib.Aquarius(devnet.node)
  const files = [{ type: 'url', url: fileUrl, method: 'GET' }]
  const did = await lib.createAsset(name, 'OJSCA', owner, files, 1, ddo, true, devnet.node, config.oceanTokenAddress, aquarius)
  assert.match(did ?? '', /^did:op:[0-9a-f]{64}$/, 'createAsset returned no DID')
  const indexed = await aquarius.waitForIndexer(did, null, null, 200, 150)
  assert.ok(indexed, `kelp's node never indexed ${did}`)
  const shown = await devnet.kelp('ocean', 'show', did)
  assert.equal(shown.id, did)
  assert.equal(shown.metadata.name, name)
  const out = path.join(devnet.home, 'from-createAsset.csv')
  const got = await devnet.kelp('ocean', 'get', did, '-o', out, '--account', '3')
  assert.equal(got.acquired, 'dispenser')
  assert.deepEqual(readFileSync(out), BYTES)
})
