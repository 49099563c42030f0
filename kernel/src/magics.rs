//! The kernel's one registry of magics: the built-ins of kelp-magic plus every family crate.
//! `%lsmagic`, `%name?`, completion and the `kelp <magic>` shell front end all read it.

use kelp_magic::{EnvMagic, FileMagic, Registry};

pub fn registry() -> Registry {
    let mut r = Registry::new().with(EnvMagic).with(FileMagic);
    for family in [kelp_ipfs::magics(), kelp_ocean::magics(), kelp_c2d::magics()] {
        for m in family {
            r.register(m);
        }
    }
    r
}
