// Ordering an asset's access or compute service with ocean.js's own contract wrappers, the way
// its `orderAsset` helper does for ERC20Template (template 1) datatokens: get a datatoken (the
// Dispenser for a free asset; approve OCEAN and `FixedRateExchange.buyDatatokens` for a priced
// one), then `Datatoken.startOrder` with the provider fee the node's initialize handed out.
import { lib } from './devnet.mjs'

/** Get one datatoken of `dt` for `signer`: 'dispenser' or 'fixedrate', whichever the datatoken has. */
export async function acquire(signer, config, dt) {
  const datatoken = new lib.Datatoken(signer, config.chainId, config)
  const me = await signer.getAddress()
  const fixed = await datatoken.getFixedRates(dt)
  const dispensers = await datatoken.getDispensers(dt)
  if (fixed.length > 0) {
    const fre = new lib.FixedRateExchange(config.fixedRateExchangeAddress, signer, config.chainId, config)
    const exchangeId = fixed[0].id
    const exchange = await fre.getExchange(exchangeId)
    const { baseTokenAmount } = await fre.calcBaseInGivenDatatokensOut(exchangeId, '1')
    await (await lib.approve(signer, config, me, exchange.baseToken, config.fixedRateExchangeAddress, baseTokenAmount, true)).wait()
    await (await fre.buyDatatokens(exchangeId, '1', baseTokenAmount)).wait()
    return { via: 'fixedrate', exchangeId, paid: baseTokenAmount, baseToken: exchange.baseToken }
  }
  if (dispensers.length > 0) {
    const dispenser = new lib.Dispenser(config.dispenserAddress, signer, config.chainId, config)
    await (await dispenser.dispense(dt, '1', me)).wait()
    return { via: 'dispenser' }
  }
  throw new Error(`datatoken ${dt} has neither a fixed-rate exchange nor a dispenser`)
}

/** `startOrder` on `dt` for `consumer` with `providerFee`; returns the mined receipt. */
export async function startOrder(signer, config, dt, consumer, serviceIndex, providerFee) {
  const datatoken = new lib.Datatoken(signer, config.chainId, config)
  const tx = await datatoken.startOrder(dt, consumer, serviceIndex, providerFee)
  const receipt = await tx.wait()
  if (receipt.status !== 1) throw new Error(`startOrder on ${dt} reverted (${tx.hash})`)
  return receipt
}
