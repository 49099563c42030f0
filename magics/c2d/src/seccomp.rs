//! The seccomp filter bubblewrap installs before the algorithm starts, and the sealed memfd it
//! is handed over in.
//!
//! The sandbox has no `/proc`, so `/proc/self/mountinfo` (whose root column names the host path
//! behind each bind mount) cannot be read; `statmount(2)`/`listmount(2)` (Linux 6.8+) would tell
//! the same without `/proc`, so they fail with `ENOSYS`. Everything else is allowed: the other
//! walls are the namespaces, the dropped capabilities and the limits ([`crate::sandbox`]).
//!
//! The program is a classic BPF filter on the syscall number (architecture independent: both
//! calls have the same numbers on every Linux ABI since the 2019 unification, and the x32 bit is
//! masked off).

use std::io::{Seek, SeekFrom, Write};
use std::os::fd::{AsFd, OwnedFd};

/// `statmount` and `listmount`.
pub const DENIED: [u32; 2] = [457, 458];

const BPF_LD_W_ABS: u16 = 0x20;
const BPF_ALU_AND_K: u16 = 0x54;
const BPF_JEQ_K: u16 = 0x15;
const BPF_RET_K: u16 = 0x06;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
const ENOSYS: u32 = 38;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

fn insn(code: u16, jt: u8, jf: u8, k: u32, out: &mut Vec<u8>) {
    out.extend(code.to_ne_bytes());
    out.push(jt);
    out.push(jf);
    out.extend(k.to_ne_bytes());
}

/// The filter as the bytes of a `struct sock_filter[]`.
pub fn program() -> Vec<u8> {
    let mut p = vec![];
    // seccomp_data.nr is at offset 0.
    insn(BPF_LD_W_ABS, 0, 0, 0, &mut p);
    insn(BPF_ALU_AND_K, 0, 0, !X32_SYSCALL_BIT, &mut p);
    let n = DENIED.len() as u8;
    for (i, nr) in DENIED.iter().enumerate() {
        // Jump over the remaining tests and the ALLOW to the ERRNO return.
        insn(BPF_JEQ_K, n - i as u8, 0, *nr, &mut p);
    }
    insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW, &mut p);
    insn(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS, &mut p);
    p
}

/// A sealed (unwritable) memfd holding [`program`], positioned at its start and inheritable
/// (no close-on-exec), for `bwrap --seccomp FD`. Drop it once bubblewrap has started.
pub fn program_fd() -> std::io::Result<OwnedFd> {
    use rustix::fs::{MemfdFlags, SealFlags};
    let fd = rustix::fs::memfd_create("kelp-c2d-seccomp", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
    let mut f = std::fs::File::from(fd);
    f.write_all(&program())?;
    f.seek(SeekFrom::Start(0))?;
    rustix::fs::fcntl_add_seals(f.as_fd(), SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL)?;
    let fd = OwnedFd::from(f);
    rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::empty())?;
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_denies_statmount_and_listmount_only() {
        let p = program();
        assert_eq!(p.len(), 6 * 8);
        // Each JEQ lands on the ERRNO return (the last instruction).
        for (i, nr) in DENIED.iter().enumerate() {
            let at = (2 + i) * 8;
            let jt = p[at + 2] as usize;
            assert_eq!(2 + i + 1 + jt, 5, "jump of test {i}");
            assert_eq!(u32::from_ne_bytes(p[at + 4..at + 8].try_into().unwrap()), *nr);
        }
        assert_eq!(u32::from_ne_bytes(p[36..40].try_into().unwrap()), SECCOMP_RET_ALLOW);
        assert_eq!(u32::from_ne_bytes(p[44..48].try_into().unwrap()), SECCOMP_RET_ERRNO | ENOSYS);
    }

    #[test]
    fn program_fd_is_sealed_and_inheritable() {
        let fd = program_fd().unwrap();
        let flags = rustix::io::fcntl_getfd(&fd).unwrap();
        assert!(!flags.contains(rustix::io::FdFlags::CLOEXEC));
        let mut f = std::fs::File::from(fd);
        assert!(f.write_all(b"x").is_err(), "the program can be changed");
        let mut back = vec![];
        std::io::Read::read_to_end(&mut f, &mut back).unwrap();
        assert_eq!(back, program());
    }
}
