// (a) Assets published by the kelp binary are resolved, ordered and downloaded by ocean.js
// (@oceanprotocol/lib) through kelp's node: the DDO through ocean.js's Aquarius client, the
// provider fee through ProviderInstance.initialize, the order with ocean.js's Dispenser /
// FixedRateExchange / Datatoken wrappers, and the file through ProviderInstance.getDownloadUrl.
// The downloaded bytes must equal the published file; the order must be on chain for the buyer.
// Last, ocean.js's own orderAsset helper orders from the indexed DDO alone.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ethers, lib, oceanConfig, startDevnet } from './devnet.mjs'
import { acquire, startOrder } from './orders.mjs'

const CSV = 'station,depth_m,count\nA1,5,120\nA1,20,87\nB7,5,301\n'
let devnet, config, file

before(async () => {
  devnet = await startDevnet()
  config = oceanConfig(devnet)
  mkdirSync(path.join(devnet.home, 'data'))
  file = path.join(devnet.home, 'data', 'plankton.csv')
  writeFileSync(file, CSV)
})
after(async () => devnet && (await devnet.stop()))

/** Resolve, order and download `did` as anvil account `n` with ocean.js; returns what it saw. */
async function consume(did, n) {
  const buyer = devnet.wallet(n)
  const me = await buyer.getAddress()
  const aquarius = new lib.Aquarius(devnet.node)
  const asset = await aquarius.resolve(did)
  assert.equal(asset.id, did)
  const service = asset.services[0]
  assert.equal(service.type, 'access')
  assert.equal(service.serviceEndpoint, devnet.node)
  const dt = service.datatokenAddress
  const before = await new lib.Datatoken(buyer, config.chainId, config).balance(dt, me)
  const acquired = await acquire(buyer, config, dt)
  const init = await lib.ProviderInstance.initialize(did, service.id, 0, me, devnet.node)
  assert.equal(init.datatoken.toLowerCase(), dt.toLowerCase())
  const receipt = await startOrder(buyer, config, dt, me, 0, init.providerFee)
  // the order, as ocean.js's datatoken ABI decodes it: for this buyer, service 0, one token spent
  const started = lib.getEventFromTx(receipt, 'OrderStarted')
  assert.ok(started, `no OrderStarted in ${receipt.hash}`)
  assert.equal(started.args.consumer, me)
  assert.equal(started.args.payer, me)
  assert.equal(started.args.serviceIndex, 0n)
  assert.equal(await new lib.Datatoken(buyer, config.chainId, config).balance(dt, me), before)
  const url = await lib.ProviderInstance.getDownloadUrl(did, service.id, 0, receipt.hash, devnet.node, buyer)
  const res = await fetch(url)
  assert.equal(res.status, 200, `download answered ${res.status}: ${await res.clone().text()}`)
  return { asset, acquired, bytes: Buffer.from(await res.arrayBuffer()), receipt, url }
}

test('ocean.js resolves, dispenses, orders and downloads a free kelp asset', async () => {
  const published = await devnet.kelp('publish', file, '--name', 'Kelp to ocean.js (free)', '--price', 'free')
  const got = await consume(published.did, 2)
  assert.equal(got.acquired.via, 'dispenser')
  assert.equal(got.asset.nftAddress.toLowerCase(), published.nft.toLowerCase())
  assert.equal(got.asset.services[0].datatokenAddress.toLowerCase(), published.datatoken.toLowerCase())
  assert.equal(got.asset.metadata.name, 'Kelp to ocean.js (free)')
  assert.deepEqual(got.bytes, Buffer.from(CSV))
  // the same signed URL twice: the nonce was used, so the node refuses it
  const again = await fetch(got.url)
  assert.equal(again.status, 401)
})

test('ocean.js buys a fixed-price kelp asset through the FixedRateExchange, orders and downloads it', async () => {
  const published = await devnet.kelp('publish', file, '--name', 'Kelp to ocean.js (priced)', '--price', '3')
  const ocean = new ethers.Contract(config.oceanTokenAddress, lib.minAbi, devnet.provider)
  const buyer = await devnet.wallet(3).getAddress()
  const paidBefore = await ocean.balanceOf(buyer)
  const got = await consume(published.did, 3)
  assert.equal(got.acquired.via, 'fixedrate')
  assert.equal(got.acquired.exchangeId, published.exchange_id)
  assert.equal(got.acquired.baseToken.toLowerCase(), config.oceanTokenAddress.toLowerCase())
  // kelp's price, as ocean.js's FixedRateExchange wrapper reads the exchange …
  const fre = new lib.FixedRateExchange(config.fixedRateExchangeAddress, devnet.wallet(3), config.chainId, config)
  assert.equal(Number((await fre.getExchange(published.exchange_id)).fixedRate), 3)
  // … and the buyer paid it plus the exchange's 0.1% OPF fee, exactly what ocean.js computed
  assert.equal(got.acquired.paid, '3.003')
  assert.equal(paidBefore - (await ocean.balanceOf(buyer)), ethers.parseUnits(got.acquired.paid, 18))
  assert.deepEqual(got.bytes, Buffer.from(CSV))
})

// ocean.js's one-call consumer helper, `orderAsset`, reads what an Ocean Node indexes beside the
// published DDO (`datatokens[]`, the chain id) through ocean.js's DDO classes, asks the node's
// initialize for the provider fee, dispenses or buys through the FixedRateExchange and sends
// startOrder; kelp's node must index those fields as Ocean Node v3 does for it to work.
for (const [price, via] of [['free', 'dispenser'], ['2', 'fixedrate']]) {
  test(`ocean.js's orderAsset orders a ${via} kelp asset and that order downloads it`, async () => {
    const published = await devnet.kelp('publish', file, '--name', `orderAsset ${via}`, '--price', price)
    const asset = await new lib.Aquarius(devnet.node).resolve(published.did)
    assert.equal(asset.datatokens?.[0]?.address?.toLowerCase(), published.datatoken.toLowerCase())
    const buyer = devnet.wallet(2)
    const me = await buyer.getAddress()
    const datatoken = new lib.Datatoken(buyer, config.chainId, config)
    const tx = await lib.orderAsset(asset, buyer, config, datatoken, devnet.node)
    const started = lib.getEventFromTx(await tx.wait(), 'OrderStarted')
    assert.equal(started.args.consumer, me)
    assert.equal(started.args.serviceIndex, 0n)
    const url = await lib.ProviderInstance.getDownloadUrl(published.did, '0', 0, tx.hash, devnet.node, buyer)
    const res = await fetch(url)
    assert.equal(res.status, 200, `download answered ${res.status}: ${await res.clone().text()}`)
    assert.equal(await res.text(), CSV)
  })
}
