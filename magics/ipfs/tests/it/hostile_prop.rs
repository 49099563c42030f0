//! Property tests over generated hostile DAGs: random mixes of raw leaves, file nodes (with
//! honest or lying block sizes), directories (duplicate, path-like and non-ASCII names), HAMT
//! shards (names with and without a valid slot prefix) and symlinks pointing outside. Whatever
//! the shape, `stat`, `ls`, `cat` and `get` return (never panic), and `get` leaves nothing but
//! its output: the directory the symlinks point to stays empty.

use crate::support::dags;

use kelp_ipfs::pb::{DataType, PbNode, UnixFsData};
use kelp_ipfs::{Cid, Store, exporter};
use proptest::prelude::*;

const NAMES: [&str; 8] = ["a", "a", "..", "é", "x/y", "00a", "ÿ€", ""];

#[derive(Debug, Clone)]
enum Shape {
    Raw(Vec<u8>),
    File { children: Vec<usize>, lie: bool, data: Vec<u8> },
    Dir(Vec<(usize, usize)>),
    Shard(Vec<(usize, usize, bool)>),
    Symlink(bool),
}

fn shape() -> impl Strategy<Value = Shape> {
    let idx = || 0usize..64;
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Shape::Raw),
        (proptest::collection::vec(idx(), 0..4), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..4))
            .prop_map(|(children, lie, data)| Shape::File { children, lie, data }),
        proptest::collection::vec((idx(), 0..NAMES.len()), 0..4).prop_map(Shape::Dir),
        proptest::collection::vec((idx(), 0..NAMES.len(), any::<bool>()), 0..4).prop_map(Shape::Shard),
        any::<bool>().prop_map(Shape::Symlink),
    ]
}

/// Store the shapes in order (links only to earlier nodes); returns every node's CID.
fn build(store: &Store, shapes: &[Shape], outside: &str) -> Vec<Cid> {
    let mut cids: Vec<Cid> = Vec::new();
    for s in shapes {
        let pick = |i: usize| cids.get(i % cids.len().max(1)).copied();
        let c = match s {
            Shape::Raw(b) => dags::put_raw(store, b),
            Shape::File { children, lie, data } => {
                let kids: Vec<(Cid, u64)> =
                    children.iter().filter_map(|i| pick(*i)).map(|c| (c, if *lie { 3 } else { 1 })).collect();
                let mut node = dags::file_node(&kids);
                let mut d = node.unixfs().unwrap();
                d.data = Some(data.clone());
                node.data = Some(d.encode());
                dags::put_node(store, &node)
            }
            Shape::Dir(entries) => {
                let links = entries.iter().filter_map(|(i, n)| pick(*i).map(|c| dags::link(c, NAMES[*n], 1))).collect();
                dags::put_node(store, &dags::dir_node(links))
            }
            Shape::Shard(entries) => {
                let links = entries
                    .iter()
                    .filter_map(|(i, n, prefixed)| {
                        let name = if *prefixed { format!("0A{}", NAMES[*n]) } else { NAMES[*n].to_string() };
                        pick(*i).map(|c| dags::link(c, &name, 1))
                    })
                    .collect();
                dags::put_node(store, &dags::shard_node(links))
            }
            Shape::Symlink(abs) => {
                let t = if *abs { format!("{outside}/escaped") } else { "../../escaped".to_string() };
                dags::put_node(store, &dags::symlink_node(&t))
            }
        };
        cids.push(c);
    }
    cids
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn hostile_dags_never_panic_and_get_stays_inside(shapes in proptest::collection::vec(shape(), 1..9)) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir(&work).unwrap();
        let cids = build(&store, &shapes, outside.to_str().unwrap());
        let root = *cids.last().unwrap();
        let _ = exporter::stat(&store, &root);
        let _ = exporter::ls(&store, &root);
        let _ = exporter::read_file(&store, &root, 0, Some(1 << 16), &mut std::io::sink(), &mut |_| Ok(()));
        let out = work.join("out");
        let got = store.get(&root, &out);
        let left: Vec<_> = std::fs::read_dir(&work).unwrap().flatten().map(|e| e.file_name()).collect();
        prop_assert_eq!(left.len(), usize::from(got.is_ok()), "{:?} {:?}", left, got);
        prop_assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        prop_assert!(dir.path().join("escaped").symlink_metadata().is_err());
    }
}

#[test]
fn a_file_node_with_only_data_reads_back() {
    // Sanity for the generator: a single file node with data and no links is its data.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut d = UnixFsData::new(DataType::File);
    d.data = Some(b"abc".to_vec());
    let c = dags::put_node(&store, &PbNode { links: vec![], data: Some(d.encode()) });
    assert_eq!(store.cat(&c).unwrap(), b"abc");
}
