//! `%publish PATH|CID|URL --name …`: publish a dataset or algorithm as an Ocean data NFT +
//! datatoken, free or priced (see [`crate::publish`]); `--compute [--trust ALGO_DID]…
//! [--trust-publisher ADDR]… [--allow-raw-algorithm]` makes a compute-only dataset.

use super::results::publish::Publish;
use super::with_progress;
use crate::error::OceanError;
use crate::journal::Journal;
use crate::publish::{self, AssetType, ComputeOptions, Container, FileRef, Price, PublishSpec};
use crate::session;
use alloy::primitives::{Address, utils::parse_units};
use async_trait::async_trait;
use clap::{CommandFactory, Parser, ValueEnum};
use kelp_magic::{Magic, MagicCall, MagicContext, MagicResult, Output, Result, RustValue, parse_args};
use serde_json::{Value, json};

#[derive(Parser, Debug)]
#[command(name = "publish", about = "Publish a file (path, IPFS CID or URL) as an Ocean data NFT + datatoken")]
struct Cli {
    /// A local path (added to IPFS first), an IPFS CID, or an http(s) URL.
    source: String,
    /// The asset's name.
    #[arg(long)]
    name: String,
    #[arg(long = "type", value_enum, default_value_t = Kind::Dataset)]
    kind: Kind,
    /// `free`, or the price of one datatoken: `N` (OCEAN) or `N:TOKEN` (OCEAN or a token address).
    #[arg(long, default_value = "free", allow_hyphen_values = true)]
    price: String,
    #[arg(long)]
    license: Option<String>,
    #[arg(long)]
    description: Option<String>,
    /// Comma-separated tags.
    #[arg(long, value_delimiter = ',')]
    tags: Vec<String>,
    /// Where to publish and who signs (--network, --account, --signer).
    #[command(flatten)]
    session: session::SessionArgs,
    /// Publish a new asset even if the same one was already published.
    #[arg(long = "new")]
    again: bool,
    /// Algorithm container image (with --type algorithm).
    #[arg(long, default_value = "python")]
    image: String,
    #[arg(long = "image-tag", default_value = "3.11-slim")]
    image_tag: String,
    /// Command line of the algorithm (`$ALGO` = its file). python3, as Debian and the local
    /// node's sandbox have no `python`.
    #[arg(long, default_value = "python3 $ALGO")]
    entrypoint: String,
    /// `sha256:…` digest of the image.
    #[arg(long, default_value = "")]
    checksum: String,
    /// Compute-only dataset: a `compute` service instead of `access`; the bytes are never
    /// downloadable, trusted algorithms run on them with %c2d.
    #[arg(long)]
    compute: bool,
    /// With --compute: trust this published algorithm (DID; repeatable).
    #[arg(long = "trust", value_name = "ALGO_DID")]
    trust: Vec<String>,
    /// With --compute: trust every algorithm published by this address (repeatable).
    #[arg(long = "trust-publisher", value_name = "ADDR")]
    trust_publisher: Vec<String>,
    /// With --compute: trust any algorithm.
    #[arg(long = "allow-raw-algorithm")]
    allow_raw_algorithm: bool,
    /// Off the devnet, where a file only this machine's IPFS store holds is pushed first:
    /// kubo, kubo=URL, pin:NAME (a pinning service of %ipfs) or lighthouse. Default: the Kubo
    /// backend of %ipfs, else its one pinning service, else Lighthouse if KELP_LIGHTHOUSE_TOKEN
    /// is set.
    #[arg(long = "push-to", value_name = "REMOTE")]
    push_to: Option<String>,
    /// List the inputs and outputs recorded in this saved notebook (CIDs, DIDs, URLs, files by
    /// name + sha256) in the asset's metadata.additionalInformation.kelp. Publishing a .ipynb
    /// that holds kelp records does this for that notebook without the flag.
    #[arg(long = "inputs-of", value_name = "NOTEBOOK")]
    inputs_of: Option<String>,
}

/// The compute settings of the arguments (`None` without --compute), checked.
fn compute_options(cli: &Cli) -> std::result::Result<Option<ComputeOptions>, OceanError> {
    if !cli.compute {
        if !cli.trust.is_empty() || !cli.trust_publisher.is_empty() || cli.allow_raw_algorithm {
            return Err(OceanError::input("--trust, --trust-publisher and --allow-raw-algorithm need --compute"));
        }
        return Ok(None);
    }
    if matches!(cli.kind, Kind::Algorithm) {
        return Err(OceanError::input("--compute is for datasets; publish the algorithm without it"));
    }
    let mut trusted_publishers = Vec::new();
    for a in &cli.trust_publisher {
        trusted_publishers.push(
            a.parse::<Address>()
                .map_err(|_| OceanError::input(format!("--trust-publisher {a}: not an address (0x + 40 hex)")))?,
        );
    }
    for d in &cli.trust {
        if !d.starts_with("did:op:") {
            return Err(OceanError::input(format!("--trust {d}: not an Ocean DID (did:op:…)")));
        }
    }
    Ok(Some(ComputeOptions {
        trusted_algorithms: cli.trust.clone(),
        trusted_publishers,
        allow_raw_algorithm: cli.allow_raw_algorithm,
    }))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    Dataset,
    Algorithm,
}

/// Parse `free`, `N` or `N:TOKEN` (OCEAN or an address); `ocean` is the network's OCEAN.
pub fn parse_price(s: &str, ocean: Address) -> std::result::Result<Price, OceanError> {
    let bad = || OceanError::input(format!("bad price `{s}`: use free, N or N:TOKEN (e.g. 3 or 2.5:OCEAN)"));
    if s.eq_ignore_ascii_case("free") {
        return Ok(Price::Free);
    }
    let (n, token) = s.split_once(':').unwrap_or((s, "OCEAN"));
    let decimal = !n.is_empty() && n.chars().all(|c| c.is_ascii_digit() || c == '.') && n.matches('.').count() <= 1;
    if !decimal || n == "." {
        return Err(bad());
    }
    let token = if token.eq_ignore_ascii_case("ocean") { ocean } else { token.parse().map_err(|_| bad())? };
    if token.is_zero() {
        return Err(OceanError::input(format!("bad price `{s}`: {}", publish::ZERO_TOKEN)));
    }
    let amount = parse_units(n, 18).map_err(|_| bad())?.get_absolute();
    if amount.is_zero() {
        return Err(OceanError::input("a price of 0 is not a price; use --price free"));
    }
    Ok(Price::Fixed { amount, token })
}

/// Whether `s` looks like an IPFS CID (v0 `Qm…` or v1 base32 `b…`).
pub fn looks_like_cid(s: &str) -> bool {
    (s.len() == 46 && s.starts_with("Qm") && s.chars().all(|c| c.is_ascii_alphanumeric()))
        || (s.len() > 50 && s.starts_with('b') && s.chars().all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c)))
}

/// The `%publish` magic.
#[derive(Debug, Default)]
pub struct PublishMagic;

#[async_trait]
impl Magic for PublishMagic {
    fn name(&self) -> &'static str {
        "publish"
    }
    fn summary(&self) -> &'static str {
        "publish a file as an Ocean data NFT + datatoken (free or priced)"
    }
    fn command(&self) -> clap::Command {
        Cli::command()
    }
    async fn run(&self, call: MagicCall, ctx: &MagicContext) -> Result<Output> {
        let cli: Cli = parse_args(self.command(), &call)?;
        if cli.name.trim().is_empty() {
            return Err(OceanError::input("--name is empty; give the asset a name").into());
        }
        let compute = compute_options(&cli)?;
        // Read before anything is sent: a bad notebook stops the publish with nothing done.
        let lineage = notebook_lineage(ctx, &cli)?;
        let file = source_file(ctx, &cli.source).await?;
        let net = with_progress(ctx, "connecting", cli.session.network(ctx)).await?;
        // Not on the devnet: a CID only this machine's store holds goes to a remote first.
        let push =
            crate::publish::reach::push_local_cid(&net, &ctx.config.home, &file, &ctx.env, cli.push_to.as_deref());
        // An interrupt stops the push (a pinning service may take minutes); nothing was sent yet.
        let push = async {
            tokio::select! {
                r = push => r,
                _ = ctx.cancel.cancelled() => Err(OceanError::Cancelled("pushing the file (nothing was sent)".into())),
            }
        };
        if let Some(to) = with_progress(ctx, "pushing the file where the network can fetch it", push).await? {
            ctx.eprint(&format!("%publish: pushed the file to {to} so the network's node can fetch it\n"));
        }
        let price = parse_price(&cli.price, net.addresses.ocean)?;
        let signer = cli.session.signer(ctx, &net).await?;
        let kind = match cli.kind {
            Kind::Dataset => AssetType::Dataset,
            Kind::Algorithm => AssetType::Algorithm,
        };
        let container = matches!(kind, AssetType::Algorithm).then(|| Container {
            image: cli.image.clone(),
            tag: cli.image_tag.clone(),
            entrypoint: cli.entrypoint.clone(),
            checksum: cli.checksum.clone(),
        });
        let spec = PublishSpec {
            name: cli.name.clone(),
            kind,
            price,
            file,
            description: cli.description.clone(),
            license: cli.license.clone(),
            tags: cli.tags.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect(),
            container,
            salt: cli.again.then(|| chrono::Utc::now().to_rfc3339()),
            additional_information: lineage.map(|l| json!({"kelp": l})),
        };
        let journal = Journal::new(&ctx.config.dir("ocean"));
        let mut progress = kelp_magic::Progress::items(ctx, "publishing", Some(3));
        let mut n = 0;
        let mut step = |label: &str| {
            progress.set_label(format!("publishing: {label}"));
            n += 1;
            progress.set(n);
        };
        let p = publish::publish_with(&net, signer.as_ref(), &spec, compute.as_ref(), &journal, &mut step).await?;
        progress.finish(&format!("published {}", p.did));
        Ok(Publish::of(&net.name, &spec, &p).output().with_value(RustValue::string(&p.did)))
    }
}

/// The lineage for the asset's metadata: of `--inputs-of NOTEBOOK` (which must hold kelp
/// records), else of the published file itself when it is a saved notebook with records.
fn notebook_lineage(ctx: &MagicContext, cli: &Cli) -> std::result::Result<Option<Value>, OceanError> {
    let read = |path: &std::path::Path| {
        kelp_provenance::lineage::lineage(path).map_err(|e| OceanError::input(format!("--inputs-of: {e}")))
    };
    if let Some(nb) = &cli.inputs_of {
        let path = ctx.resolve(nb);
        return match read(&path)? {
            Some(l) => Ok(Some(l)),
            None => Err(OceanError::input(format!(
                "--inputs-of {nb}: the notebook holds no kelp records; run it with the kelp kernel and save it with its outputs"
            ))),
        };
    }
    let path = ctx.resolve(&cli.source);
    if path.extension().is_some_and(|e| e == "ipynb") && path.is_file() {
        // A notebook that is not one (bad JSON) is still a file anyone may publish.
        return Ok(kelp_provenance::lineage::lineage(&path).ok().flatten());
    }
    Ok(None)
}

async fn source_file(ctx: &MagicContext, source: &str) -> std::result::Result<FileRef, OceanError> {
    if source.starts_with("http://") || source.starts_with("https://") {
        return Ok(FileRef::Url { url: source.to_string() });
    }
    let path = ctx.resolve(source);
    if path.exists() {
        return super::ipfs_add(ctx, &path).await.map(|cid| FileRef::Ipfs { hash: cid });
    }
    if looks_like_cid(source) {
        return Ok(FileRef::Ipfs { hash: source.to_string() });
    }
    Err(OceanError::input(format!("{source}: no such file, and not an IPFS CID or URL")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices() {
        let ocean = Address::repeat_byte(7);
        assert_eq!(parse_price("free", ocean).unwrap(), Price::Free);
        let Price::Fixed { amount, token } = parse_price("2.5", ocean).unwrap() else { panic!() };
        assert_eq!((amount.to_string().as_str(), token), ("2500000000000000000", ocean));
        let other = Address::repeat_byte(9);
        let Price::Fixed { token, .. } = parse_price(&format!("1:{other}"), ocean).unwrap() else { panic!() };
        assert_eq!(token, other);
        for bad in ["", "abc", "-1", "1:NOTATOKEN", "1.2.3"] {
            let e = parse_price(bad, ocean).unwrap_err().to_string();
            assert!(e.contains("bad price") && !e.contains('\n'), "{bad}: {e}");
        }
        assert!(parse_price("0", ocean).unwrap_err().to_string().contains("--price free"));
        let zero = parse_price(&format!("2:{}", Address::ZERO), ocean).unwrap_err().to_string();
        assert!(zero.contains("zero address") && zero.contains("N:OCEAN") && !zero.contains('\n'), "{zero}");
    }

    #[test]
    fn session_flags_and_help() {
        let cli =
            Cli::try_parse_from(["publish", "x.csv", "--name", "n", "--network", "sepolia", "--account", "2"]).unwrap();
        assert_eq!((cli.session.network.as_deref(), cli.session.account), (Some("sepolia"), Some(2)));
        let cli = Cli::try_parse_from(["publish", "--signer", "browser", "x.csv", "--name", "n"]).unwrap();
        assert_eq!(cli.session.signer, Some(session::SignerChoice::Browser));
        let help = Cli::command().render_long_help().to_string();
        for flag in ["--network", "--account", "--signer", "--price", "--compute"] {
            assert!(help.contains(flag), "{flag} missing from help:\n{help}");
        }
    }

    #[test]
    fn cid_shapes() {
        assert!(looks_like_cid("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"));
        assert!(looks_like_cid("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"));
        assert!(!looks_like_cid("data.csv"));
    }
}
