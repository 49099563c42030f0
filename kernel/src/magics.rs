//! The kernel's one registry of magics: the built-ins of kelp-magic plus every family crate.
//! `%lsmagic`, `%name?`, completion and the `kelp <magic>` shell front end all read it.
//! `%c2d` comes with its Ocean backend (DIDs run on the assets' Ocean node) and reads IPFS CIDs
//! from the local block store.

use kelp_magic::{EnvMagic, FileMagic, Registry};
use std::sync::Arc;

pub fn registry() -> Registry {
    let mut r = Registry::new().with(EnvMagic).with(FileMagic);
    for family in [kelp_ipfs::magics(), kelp_ocean::magics(), kelp_provenance::magics()] {
        for m in family {
            r.register(m);
        }
    }
    r.register(Arc::new(kelp_ocean::compute::c2d_magic()));
    r
}
