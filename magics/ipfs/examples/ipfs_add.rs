//! `ipfs_add STORE_DIR PATH [--cid-version 1] [--only-hash] [--profile NAME]`: add a file with
//! kelp's importer into a store and print the CID (used by bench/bench.sh).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (store, path) = match (args.first(), args.get(1)) {
        (Some(s), Some(p)) => (s.clone(), p.clone()),
        _ => return Err("usage: ipfs_add STORE_DIR PATH [--cid-version 1] [--only-hash] [--profile NAME]".into()),
    };
    let mut opts = match args.iter().position(|a| a == "--profile") {
        Some(i) => kelp_ipfs::AddOptions::profile(args.get(i + 1).ok_or("--profile needs a name")?)?,
        None => kelp_ipfs::AddOptions::default(),
    };
    if args.windows(2).any(|w| w[0] == "--cid-version" && w[1] == "1") {
        opts.cid_version = 1;
    }
    opts.only_hash = args.iter().any(|a| a == "--only-hash");
    opts.recursive = true;
    let start = std::time::Instant::now();
    let added = kelp_ipfs::Store::open(std::path::Path::new(&store))?.add_path(std::path::Path::new(&path), &opts)?;
    println!("{} {} {:.3}", added.cid, added.size, start.elapsed().as_secs_f64());
    Ok(())
}
