//! Solidity interfaces of the Ocean v4 contracts kelp calls (written from the ABIs of
//! `@oceanprotocol/contracts` 2.6.0), plus constructor argument types for the devnet deploy.
//! Bytecode is never here: it is read from the npm artifacts at run time (kelp-ocean's `tools`).

#![allow(missing_docs, clippy::too_many_arguments)]

use alloy::sol;

sol! {
    /// Constructor arguments of the contracts the devnet deploys.
    struct CtorOwnerOwner { address a; address b; }
    struct CtorAddress { address a; }
    struct CtorRouter { address owner; address ocean; address bpool; address opc; address[] preCreatedPools; }
    struct CtorFactory { address template721; address template20; address router; }
    struct CtorEscrow { address factoryRouter; address opcCollector; }

    #[sol(rpc)]
    interface IRouter {
        function addFactory(address _factory) external;
        function addFixedRateContract(address _fixedRate) external;
        function addDispenserContract(address _dispenser) external;
        function addApprovedToken(address tokenAddress) external;
        function getOPCFee(address baseToken) external view returns (uint256);
    }

    struct NftCreateData { string name; string symbol; uint256 templateIndex; string tokenURI; bool transferable; address owner; }
    struct ErcCreateData { uint256 templateIndex; string[] strings; address[] addresses; uint256[] uints; bytes[] bytess; }
    struct FixedData { address fixedPriceAddress; address[] addresses; uint256[] uints; }
    struct DispenserData { address dispenserAddress; uint256 maxTokens; uint256 maxBalance; bool withMint; address allowedSwapper; }

    #[sol(rpc)]
    interface IERC721Factory {
        event NFTCreated(address newTokenAddress, address indexed templateAddress, string tokenName, address indexed admin, string symbol, string tokenURI, bool transferable, address indexed creator);
        event TokenCreated(address indexed newTokenAddress, address indexed templateAddress, string name, string symbol, uint256 cap, address creator);
        event NewFixedRate(bytes32 exchangeId, address indexed owner, address exchangeContract, address indexed baseToken);
        event DispenserCreated(address indexed datatokenAddress, address indexed owner, uint256 maxTokens, uint256 maxBalance, address allowedSwapper);
        function addTokenTemplate(address _templateAddress) external returns (uint256);
        function getCurrentNFTCount() external view returns (uint256);
        function getTokenTemplate(uint256 _index) external view returns (address templateAddress, bool isActive);
        function createNftWithErc20(NftCreateData _NftCreateData, ErcCreateData _ErcCreateData) external returns (address erc721Address, address erc20Address);
        function createNftWithErc20WithFixedRate(NftCreateData _NftCreateData, ErcCreateData _ErcCreateData, FixedData _FixedData) external returns (address erc721Address, address erc20Address, bytes32 exchangeId);
        function createNftWithErc20WithDispenser(NftCreateData _NftCreateData, ErcCreateData _ErcCreateData, DispenserData _DispenserData) external returns (address erc721Address, address erc20Address);
    }

    struct MetadataProof { address validatorAddress; uint8 v; bytes32 r; bytes32 s; }

    #[sol(rpc)]
    interface IERC721Template {
        event MetadataCreated(address indexed createdBy, uint8 state, string decryptorUrl, bytes flags, bytes data, bytes32 metaDataHash, uint256 timestamp, uint256 blockNumber);
        event MetadataUpdated(address indexed updatedBy, uint8 state, string decryptorUrl, bytes flags, bytes data, bytes32 metaDataHash, uint256 timestamp, uint256 blockNumber);
        function name() external view returns (string);
        function symbol() external view returns (string);
        function ownerOf(uint256 tokenId) external view returns (address);
        function getTokensList() external view returns (address[]);
        function getMetaData() external view returns (string, string, uint8, bool);
        function setMetaData(uint8 _metaDataState, string _metaDataDecryptorUrl, string _metaDataDecryptorAddress, bytes flags, bytes data, bytes32 _metaDataHash, MetadataProof[] _metadataProofs) external;
    }

    struct ProviderFeeData { address providerFeeAddress; address providerFeeToken; uint256 providerFeeAmount; uint8 v; bytes32 r; bytes32 s; uint256 validUntil; bytes providerData; }
    struct ConsumeMarketFee { address consumeMarketFeeAddress; address consumeMarketFeeToken; uint256 consumeMarketFeeAmount; }
    struct FixedRateRef { address contractAddress; bytes32 id; }

    #[sol(rpc)]
    interface IERC20Template {
        event ProviderFee(address indexed providerFeeAddress, address indexed providerFeeToken, uint256 providerFeeAmount, bytes providerData, uint8 v, bytes32 r, bytes32 s, uint256 validUntil);
        event OrderStarted(address indexed consumer, address payer, uint256 amount, uint256 serviceIndex, uint256 timestamp, address indexed publishMarketAddress, uint256 blockNumber);
        event OrderReused(bytes32 orderTxId, address caller, uint256 timestamp, uint256 number);
        function name() external view returns (string);
        function symbol() external view returns (string);
        function balanceOf(address account) external view returns (uint256);
        function approve(address spender, uint256 amount) external returns (bool);
        function transfer(address to, uint256 amount) external returns (bool);
        function mint(address account, uint256 value) external;
        function isMinter(address account) external view returns (bool);
        function getERC721Address() external view returns (address);
        function getPaymentCollector() external view returns (address);
        function getDispensers() external view returns (address[]);
        function getFixedRates() external view returns (FixedRateRef[]);
        function startOrder(address consumer, uint256 serviceIndex, ProviderFeeData _providerFee, ConsumeMarketFee _consumeMarketFee) external;
    }

    #[sol(rpc)]
    interface IERC20 {
        function name() external view returns (string);
        function symbol() external view returns (string);
        function decimals() external view returns (uint8);
        function totalSupply() external view returns (uint256);
        function balanceOf(address account) external view returns (uint256);
        function allowance(address owner, address spender) external view returns (uint256);
        function approve(address spender, uint256 amount) external returns (bool);
        function transfer(address to, uint256 amount) external returns (bool);
    }

    #[sol(rpc)]
    interface IFixedRateExchange {
        function buyDT(bytes32 exchangeId, uint256 datatokenAmount, uint256 maxBaseTokenAmount, address consumeMarketAddress, uint256 consumeMarketSwapFeeAmount) external;
        function calcBaseInGivenOutDT(bytes32 exchangeId, uint256 datatokenAmount, uint256 consumeMarketSwapFeeAmount) external view returns (uint256 baseTokenAmount, uint256 oceanFeeAmount, uint256 publishMarketFeeAmount, uint256 consumeMarketFeeAmount);
        function getRate(bytes32 exchangeId) external view returns (uint256);
        function collectBT(bytes32 exchangeId, uint256 amount) external;
        function getExchange(bytes32 exchangeId) external view returns (address exchangeOwner, address datatoken, uint256 dtDecimals, address baseToken, uint256 btDecimals, uint256 fixedRate, bool active, uint256 dtSupply, uint256 btSupply, uint256 dtBalance, uint256 btBalance, bool withMint);
    }

    struct EscrowFunds { uint256 available; uint256 locked; }
    struct EscrowAuth { address payee; uint256 maxLockedAmount; uint256 currentLockedAmount; uint256 maxLockSeconds; uint256 maxLockCounts; uint256 currentLocks; }
    struct EscrowLock { uint256 jobId; address payer; address payee; uint256 amount; uint256 expiry; address token; }

    /// Ocean's Escrow for paid compute: the payer deposits and authorises a payee (the compute
    /// node), which locks the most a job may cost and claims what it did cost after the job.
    #[sol(rpc)]
    interface IEscrow {
        event Lock(address payer, address payee, uint256 jobId, uint256 amount, uint256 expiry, address token);
        event Claimed(address indexed payee, uint256 jobId, address token, address indexed payer, uint256 amount, bytes proof);
        function deposit(address token, uint256 amount) external;
        function authorize(address token, address payee, uint256 maxLockedAmount, uint256 maxLockSeconds, uint256 maxLockCounts) external;
        function getUserFunds(address payer, address token) external view returns (EscrowFunds);
        function getAuthorizations(address token, address payer, address payee) external view returns (EscrowAuth[]);
        function getLocks(address token, address payer, address payee) external view returns (EscrowLock[]);
        function createLock(uint256 jobId, address token, address payer, uint256 amount, uint256 expiry) external;
        function claimLockAndWithdraw(uint256 jobId, address token, address payer, uint256 amount, bytes proof) external;
    }

    #[sol(rpc)]
    interface IDispenser {
        function dispense(address datatoken, uint256 amount, address destination) external payable;
        function status(address datatoken) external view returns (bool active, address owner, bool isMinter, uint256 maxTokens, uint256 maxBalance, uint256 balance, address allowedSwapper);
    }
}
