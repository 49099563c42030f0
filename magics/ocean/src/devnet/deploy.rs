//! Deploying Ocean v4 on a fresh anvil from the npm artifacts, in the order that works
//! (REFERENCE §2.4): fee collector, OCEAN (MockOcean), BPool template, router, fixed-rate
//! exchange, dispenser, NFT and datatoken templates, factory; then the router wiring and the
//! enterprise datatoken template (index 2); Ocean's Escrow for paid compute (router + fee
//! collector); then OCEAN for the test accounts.

use crate::addresses::OceanAddresses;
use crate::chain;
use crate::contracts::{
    CtorAddress, CtorEscrow, CtorFactory, CtorOwnerOwner, CtorRouter, IERC20, IERC721Factory, IRouter,
};
use crate::error::{OceanError, Result};
use crate::signer::{LocalKeySigner, Signer, TxSummary};
use crate::tools::Tools;
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::DynProvider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::{SolCall, SolValue};
use std::time::Duration;

/// OCEAN each test account (anvil #1..#9) receives.
pub const FUND_OCEAN: u64 = 10_000;
/// Test accounts funded with OCEAN (anvil #0 is the deployer and keeps the rest).
pub const FUNDED_ACCOUNTS: std::ops::RangeInclusive<usize> = 1..=9;

const TX_TIMEOUT: Duration = Duration::from_secs(30);

/// What the deploy did: addresses, gas per step.
#[derive(Debug, Clone)]
pub struct Deployed {
    pub addresses: OceanAddresses,
    pub gas: Vec<(String, u64)>,
}

struct Deployer<'a> {
    tools: &'a Tools,
    signer: LocalKeySigner,
    provider: DynProvider,
    chain_id: u64,
    gas: Vec<(String, u64)>,
}

impl Deployer<'_> {
    async fn create(&mut self, artifact: &str, ctor: Bytes) -> Result<Address> {
        let name = artifact.rsplit('/').next().unwrap_or(artifact).to_string();
        let mut code = self.tools.bytecode(artifact)?.to_vec();
        code.extend_from_slice(&ctor);
        let tx = TransactionRequest::default().with_deploy_code(code);
        let summary = TxSummary::deploy(self.chain_id, &name);
        let r = chain::transact(&self.signer, &self.provider, tx, &summary, TX_TIMEOUT).await?;
        self.gas.push((format!("deploy {name}"), r.gas_used));
        r.contract_address.ok_or_else(|| OceanError::devnet(format!("deploying {name} created no contract")))
    }

    async fn call<C: SolCall>(&mut self, contract: &str, to: Address, call: C, label: &str) -> Result<()> {
        let tx = TransactionRequest::default().with_to(to).with_input(call.abi_encode());
        let summary = TxSummary::call(self.chain_id, contract, to, C::SIGNATURE);
        let r = chain::transact(&self.signer, &self.provider, tx, &summary, TX_TIMEOUT).await?;
        self.gas.push((label.to_string(), r.gas_used));
        Ok(())
    }
}

/// Deploy and wire everything on the chain at `rpc_url`, signing with anvil account #0.
pub async fn deploy(tools: &Tools, rpc_url: &str, chain_id: u64) -> Result<Deployed> {
    let signer = LocalKeySigner::dev_account(0, rpc_url, chain_id)?;
    let owner = signer.address().await?;
    let provider = chain::connect(rpc_url)?;
    let start_block = {
        use alloy::providers::Provider;
        provider.get_block_number().await.map_err(|e| chain::decode_rpc_error(&e, "eth_blockNumber", rpc_url))?
    };
    let mut d = Deployer { tools, signer, provider, chain_id, gas: Vec::new() };
    let enc = |v: Vec<u8>| -> Bytes { v.into() };

    let opc = d
        .create(
            "communityFee/OPFCommunityFeeCollector.sol/OPFCommunityFeeCollector",
            enc(CtorOwnerOwner { a: owner, b: owner }.abi_encode_params()),
        )
        .await?;
    let ocean =
        d.create("utils/mock/MockOcean.sol/MockOcean", enc(CtorAddress { a: owner }.abi_encode_params())).await?;
    let bpool = d.create("pools/balancer/BPool.sol/BPool", Bytes::new()).await?;
    let router = d
        .create(
            "pools/FactoryRouter.sol/FactoryRouter",
            enc(CtorRouter { owner, ocean, bpool, opc, preCreatedPools: vec![] }.abi_encode_params()),
        )
        .await?;
    let fixed = d
        .create(
            "pools/fixedRate/FixedRateExchange.sol/FixedRateExchange",
            enc(CtorAddress { a: router }.abi_encode_params()),
        )
        .await?;
    let dispenser =
        d.create("pools/dispenser/Dispenser.sol/Dispenser", enc(CtorAddress { a: router }.abi_encode_params())).await?;
    let t721 = d.create("templates/ERC721Template.sol/ERC721Template", Bytes::new()).await?;
    let t20 = d.create("templates/ERC20Template.sol/ERC20Template", Bytes::new()).await?;
    let t20e = d.create("templates/ERC20TemplateEnterprise.sol/ERC20TemplateEnterprise", Bytes::new()).await?;
    let factory = d
        .create(
            "ERC721Factory.sol/ERC721Factory",
            enc(CtorFactory { template721: t721, template20: t20, router }.abi_encode_params()),
        )
        .await?;

    d.call("FactoryRouter", router, IRouter::addFactoryCall { _factory: factory }, "router.addFactory").await?;
    d.call(
        "FactoryRouter",
        router,
        IRouter::addFixedRateContractCall { _fixedRate: fixed },
        "router.addFixedRateContract",
    )
    .await?;
    d.call(
        "FactoryRouter",
        router,
        IRouter::addDispenserContractCall { _dispenser: dispenser },
        "router.addDispenserContract",
    )
    .await?;
    d.call(
        "ERC721Factory",
        factory,
        IERC721Factory::addTokenTemplateCall { _templateAddress: t20e },
        "factory.addTokenTemplate",
    )
    .await?;

    let escrow = d
        .create(
            "escrow/Escrow.sol/Escrow",
            enc(CtorEscrow { factoryRouter: router, opcCollector: opc }.abi_encode_params()),
        )
        .await?;

    let amount = U256::from(FUND_OCEAN) * U256::from(10u64).pow(U256::from(18));
    for n in FUNDED_ACCOUNTS {
        let to = LocalKeySigner::dev_address(n).ok_or_else(|| OceanError::devnet("no dev account"))?;
        d.call("OCEAN", ocean, IERC20::transferCall { to, amount }, &format!("OCEAN.transfer #{n}")).await?;
    }

    let addresses = OceanAddresses {
        chain_id,
        ocean,
        opf_collector: opc,
        router,
        fixed_price: fixed,
        dispenser,
        erc721_factory: factory,
        erc721_templates: [("1".to_string(), t721)].into(),
        erc20_templates: [("1".to_string(), t20), ("2".to_string(), t20e)].into(),
        escrow: Some(escrow),
        pool_template: Some(bpool),
        start_block,
    };
    Ok(Deployed { addresses, gas: d.gas })
}
