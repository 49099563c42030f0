// (c) Compute-to-data driven by ocean.js (@oceanprotocol/lib) on kelp's node: kelp publishes an
// algorithm and a compute-only dataset that trusts it; ocean.js lists the node's compute
// environments, initializes the job (ProviderInstance.initializeCompute, signed the ocean.js
// way), dispenses and orders both datatokens as its compute examples do (made out to the
// environment's consumerAddress, the node itself), starts the job (ProviderInstance.computeStart),
// polls ProviderInstance.computeStatus until it ends, and downloads outputs.tar through
// ProviderInstance.getComputeResultUrl. The result must be what the algorithm computed from the
// dataset, the dataset itself must not be downloadable, and another account can neither reuse the
// orders nor read the result.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ethers, lib, oceanConfig, startDevnet } from './devnet.mjs'
import { acquire, startOrder } from './orders.mjs'

const DATA = 'id,value\n1,10\n2,32\n3,7\n'
// counts the dataset's rows and sums its values: only these aggregates come back
const ALGO = `set -e
f=$(ls /data/inputs/did:op:*/0)
rows=$(tail -n +2 "$f" | wc -l)
sum=$(tail -n +2 "$f" | cut -d, -f2 | paste -sd+ | sh -c 'read e; echo $(($e))')
printf 'rows=%s sum=%s\\n' "$rows" "$sum" > /data/outputs/summary.txt
echo done
`
let devnet, config

before(async () => {
  devnet = await startDevnet()
  config = oceanConfig(devnet)
})
after(async () => devnet && (await devnet.stop()))

/** The files of a ustar archive: name → Buffer. */
function untar(buf) {
  const files = {}
  for (let at = 0; at + 512 <= buf.length; ) {
    const header = buf.subarray(at, at + 512)
    if (header.every((b) => b === 0)) break
    const name = header.subarray(0, 100).toString().replace(/\0.*$/s, '')
    const size = parseInt(header.subarray(124, 136).toString().replace(/\0.*$/s, '').trim() || '0', 8)
    if (header[156] === 48 || header[156] === 0) files[name.replace(/^\.\//, '')] = buf.subarray(at + 512, at + 512 + size)
    at += 512 + Math.ceil(size / 512) * 512
  }
  return files
}

/** kelp publishes the algorithm and a compute-only dataset trusting it (files under `sub`). */
async function publishPair(sub) {
  mkdirSync(path.join(devnet.home, sub))
  const algoFile = path.join(devnet.home, sub, 'summary.sh')
  const dataFile = path.join(devnet.home, sub, 'values.csv')
  writeFileSync(algoFile, ALGO)
  writeFileSync(dataFile, DATA)
  const algo = await devnet.kelp('publish', algoFile, '--type', 'algorithm', '--name', `Row summary ${sub}`, '--entrypoint', 'sh $ALGO')
  const data = await devnet.kelp('publish', dataFile, '--name', `Private values ${sub}`, '--compute', '--trust', algo.did)
  return { algo, data }
}

test('ocean.js runs a compute job on kelp-published assets on kelp\'s node and gets the result', async () => {
  const { algo, data } = await publishPair('c2d')

  const consumer = devnet.wallet(4)
  const me = await consumer.getAddress()
  const aquarius = new lib.Aquarius(devnet.node)
  const [dataset, algorithm] = [await aquarius.resolve(data.did), await aquarius.resolve(algo.did)]
  assert.equal(dataset.services[0].type, 'compute')
  assert.equal(algorithm.metadata.type, 'algorithm')

  // the compute-only dataset cannot be downloaded
  const refused = await lib.ProviderInstance.initialize(data.did, dataset.services[0].id, 0, me, devnet.node).then(
    () => null,
    (e) => e
  )
  assert.ok(refused, 'initialize (download) of a compute-only dataset was accepted')

  const envs = await lib.ProviderInstance.getComputeEnvironments(devnet.node)
  assert.ok(Array.isArray(envs) && envs.length > 0, `no compute environments: ${JSON.stringify(envs)}`)
  const env = envs[0]
  const { providerAddress } = await (await fetch(devnet.node)).json()
  assert.equal(env.consumerAddress.toLowerCase(), providerAddress.toLowerCase())

  const assets = [{ documentId: data.did, serviceId: dataset.services[0].id }]
  const algoItem = { documentId: algo.did, serviceId: algorithm.services[0].id }
  const maxJobDuration = 300
  const init = await lib.ProviderInstance.initializeCompute(
    assets, algoItem, env.id, config.oceanTokenAddress, maxJobDuration, devnet.node, consumer, [], config.chainId
  )
  assert.equal(init.datasets.length, 1)
  assert.equal(init.algorithm.datatoken.toLowerCase(), algorithm.services[0].datatokenAddress.toLowerCase())

  // order both datatokens for the environment's consumer (the node), as ocean.js's examples do
  for (const [item, asset, fees] of [[assets[0], dataset, init.datasets[0]], [algoItem, algorithm, init.algorithm]]) {
    const dt = asset.services[0].datatokenAddress
    assert.equal((await acquire(consumer, config, dt)).via, 'dispenser')
    item.transferTxId = (await startOrder(consumer, config, dt, env.consumerAddress, 0, fees.providerFee)).hash
  }

  // orders made out to the node count only for whoever paid them: another signer offering
  // these transactions is refused (the request signed the way ocean.js signs computeStart)
  const other = devnet.wallet(5)
  const otherAddress = await other.getAddress()
  const nonce = String((await lib.ProviderInstance.getNonce(devnet.node, otherAddress)) + 1)
  const foreign = await fetch(`${devnet.node}/api/services/compute`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      consumerAddress: otherAddress,
      nonce,
      signature: await lib.signRequest(other, otherAddress + nonce + lib.PROTOCOL_COMMANDS.COMPUTE_START),
      environment: env.id,
      datasets: assets,
      algorithm: algoItem,
      maxJobDuration
    })
  })
  // (refused with the reason; kelp answers 403, as plain text or as Ocean Node's JSON string)
  assert.notEqual(foreign.status, 200)
  assert.match(await foreign.text(), /no order for this consumer/)

  const started = await lib.ProviderInstance.computeStart(
    devnet.node, consumer, env.id, assets, algoItem, maxJobDuration, config.oceanTokenAddress, [], config.chainId
  )
  const job = Array.isArray(started) ? started[0] : started
  assert.ok(job?.jobId, `computeStart answered ${JSON.stringify(started)}`)

  let status
  for (let i = 0; i < 600; i++) {
    const answer = await lib.ProviderInstance.computeStatus(devnet.node, me, job.jobId)
    status = Array.isArray(answer) ? answer[0] : answer
    if (status.status >= 70) break
    await sleep(100)
  }
  assert.equal(status.status, 70, `job ended as ${JSON.stringify(status)}`)

  const outputs = status.results.find((r) => r.filename === 'outputs.tar')
  assert.ok(outputs, `no outputs.tar in ${JSON.stringify(status.results)}`)
  const url = await lib.ProviderInstance.getComputeResultUrl(devnet.node, consumer, job.jobId, outputs.index)
  const res = await fetch(url)
  assert.equal(res.status, 200, `computeResult answered ${res.status}: ${await res.clone().text()}`)
  const files = untar(Buffer.from(await res.arrayBuffer()))
  assert.equal(files['summary.txt']?.toString(), 'rows=3 sum=49\n', `outputs.tar holds ${Object.keys(files)}`)
  assert.ok(!Object.values(files).some((b) => b.toString().includes('1,10')), 'a dataset row came back')

  // another account cannot read the job's results
  const theirs = await fetch(await lib.ProviderInstance.getComputeResultUrl(devnet.node, other, job.jobId, outputs.index))
  assert.notEqual(theirs.status, 200)
})

// (d) A paid job: ocean.js picks kelp's paid environment (fees in OCEAN), gets the Escrow payment
// quote from initializeCompute, deposits and authorises the node through ocean.js's EscrowContract,
// orders both datatokens for the node, starts the job with the fee token, and once the job has run
// (under a minute) the node has claimed one minute's price from the lock and left the rest.
test('ocean.js pays for a job on kelp\'s paid environment through Escrow', async () => {
  const { algo, data } = await publishPair('paid')
  const consumer = devnet.wallet(6)
  const me = await consumer.getAddress()
  const chain = String(config.chainId)
  const envs = await lib.ProviderInstance.getComputeEnvironments(devnet.node)
  const env = envs.find((e) => e.fees?.[chain]?.length)
  assert.ok(env, `no paid environment: ${JSON.stringify(envs.map((e) => e.id))}`)
  const { feeToken, prices } = env.fees[chain][0]
  assert.deepEqual(prices, [{ id: 'cpu', price: 1 }])
  const addresses = JSON.parse(readFileSync(devnet.up.address_file, 'utf8')).development

  const aquarius = new lib.Aquarius(devnet.node)
  const [dataset, algorithm] = [await aquarius.resolve(data.did), await aquarius.resolve(algo.did)]
  const assets = [{ documentId: data.did, serviceId: dataset.services[0].id }]
  const algoItem = { documentId: algo.did, serviceId: algorithm.services[0].id }
  const maxJobDuration = 120 // two started minutes of one CPU at 1 OCEAN: 2 OCEAN at most
  const init = await lib.ProviderInstance.initializeCompute(
    assets, algoItem, env.id, feeToken, maxJobDuration, devnet.node, consumer, [], config.chainId
  )
  const pay = init.payment
  assert.equal(pay.escrowAddress.toLowerCase(), addresses.Escrow.toLowerCase())
  assert.equal(pay.payee.toLowerCase(), env.consumerAddress.toLowerCase())
  assert.equal(String(pay.amount), ethers.parseUnits('2', 18).toString())
  assert.ok(pay.minLockSeconds >= maxJobDuration, JSON.stringify(pay))

  const escrow = new lib.EscrowContract(pay.escrowAddress, consumer, config.chainId, config)
  await (await lib.approve(consumer, config, me, feeToken, pay.escrowAddress, '2', true)).wait()
  await (await escrow.deposit(feeToken, '2')).wait()
  await (await escrow.authorize(feeToken, pay.payee, '2', String(pay.minLockSeconds), '1')).wait()

  for (const [item, asset, fees] of [[assets[0], dataset, init.datasets[0]], [algoItem, algorithm, init.algorithm]]) {
    const dt = asset.services[0].datatokenAddress
    await acquire(consumer, config, dt)
    item.transferTxId = (await startOrder(consumer, config, dt, env.consumerAddress, 0, fees.providerFee)).hash
  }
  const started = await lib.ProviderInstance.computeStart(
    devnet.node, consumer, env.id, assets, algoItem, maxJobDuration, feeToken, [], config.chainId
  )
  const job = Array.isArray(started) ? started[0] : started
  assert.ok(job?.jobId, `computeStart answered ${JSON.stringify(started)}`)
  let funds
  for (let i = 0; i < 600; i++) {
    const status = await lib.ProviderInstance.computeStatus(devnet.node, me, job.jobId)
    funds = await escrow.getUserFunds(me, feeToken)
    if ((Array.isArray(status) ? status[0] : status).status >= 70 && BigInt(funds[1]) === 0n) break
    await sleep(100)
  }
  assert.equal(BigInt(funds[1]), 0n, 'the lock was never claimed')
  assert.equal(BigInt(funds[0]), ethers.parseUnits('1', 18), 'one minute claimed, one left to the payer')
})
