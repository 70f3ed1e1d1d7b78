//! The vDSO parser (src/vdso.rs, built here with std) on real images and on corrupted ones.

#[allow(dead_code)]
#[path = "../src/vdso.rs"]
mod vdso;

mod harness;

use std::path::PathBuf;
use std::process::Command;
use vdso::{Elf, mapped_size};

fn corpus_dir() -> PathBuf {
    harness::root().join("tests/vdso")
}

/// This machine's i386 vDSO, and AT_SYSINFO's offset in it, from a 32-bit helper.
fn live_vdso() -> (Vec<u8>, u32) {
    static LIVE: std::sync::OnceLock<(Vec<u8>, u32)> = std::sync::OnceLock::new();
    LIVE.get_or_init(dump_live_vdso).clone()
}

fn dump_live_vdso() -> (Vec<u8>, u32) {
    let exe = harness::root().join("target/ctests/dump_vdso32");
    std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
    let st = Command::new("gcc")
        .args(["-m32", "-O2", "-o"])
        .arg(&exe)
        .arg(corpus_dir().join("dump_vdso.c"))
        .status()
        .unwrap();
    assert!(st.success());
    let out = Command::new(&exe).output().unwrap();
    assert!(out.status.success());
    let sysinfo = String::from_utf8_lossy(&out.stderr).trim().parse().unwrap();
    (out.stdout, sysinfo)
}

#[test]
fn finds_kernel_vsyscall_in_the_live_vdso() {
    let (image, sysinfo) = live_vdso();
    assert_eq!(mapped_size(&image[..]), Some(image.len() as u32));
    let elf = Elf::parse(&image[..]).expect("parse the live vDSO");
    assert_eq!(
        elf.lookup(b"__kernel_vsyscall", b"LINUX_2.5"),
        Some(sysinfo)
    );
    // Same name, wrong version: not found.
    assert_eq!(elf.lookup(b"__kernel_vsyscall", b"LINUX_2.6"), None);
    assert!(elf.lookup(b"__vdso_clock_gettime", b"LINUX_2.6").is_some());
    // No released kernel has the cancellation helpers.
    assert_eq!(
        elf.lookup(b"__vdso_pending_syscall_return_address", b"LINUX_2.6"),
        None
    );
    assert_eq!(elf.lookup(b"__kernel_vsyscal", b"LINUX_2.5"), None);
}

#[test]
fn corpus_images_parse_or_fail_cleanly() {
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "so") {
            continue;
        }
        let image = std::fs::read(&path).unwrap();
        exercise(&image);
    }
    let image = std::fs::read(corpus_dir().join("vdso32-linux-6.18.so")).unwrap();
    let elf = Elf::parse(&image[..]).unwrap();
    assert_eq!(elf.lookup(b"__kernel_vsyscall", b"LINUX_2.5"), Some(0x5e0));
}

/// Every query the library makes, on an arbitrary image: must not panic (bounds, overflow).
fn exercise(image: &[u8]) -> usize {
    let _ = mapped_size(image);
    let Some(elf) = Elf::parse(image) else {
        return 0;
    };
    [
        (&b"__kernel_vsyscall"[..], &b"LINUX_2.5"[..]),
        (b"__vdso_pending_syscall_return_address", b"LINUX_2.6"),
        (b"__vdso_abort_pending_syscall", b"LINUX_2.6"),
        (b"__vdso_clock_gettime", b"LINUX_2.6"),
    ]
    .iter()
    .filter(|(name, version)| elf.lookup(name, version).is_some())
    .count()
}

/// xorshift64*: a reproducible stream without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Randomised mutation fuzzing of the real image: bit flips, interesting 32-bit values written
/// where the parser reads (headers, dynamic section, hash tables, symbols), truncation.
#[test]
fn mutated_images_never_panic() {
    let (seed_image, _) = live_vdso();
    let seed = std::env::var("PTCANCEL_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_cafe_u64);
    let rounds: usize = std::env::var("PTCANCEL_FUZZ_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60_000);
    let mut rng = Rng(seed | 1);
    let interesting = [
        0u32,
        1,
        2,
        3,
        4,
        0x7f,
        0x80,
        0xff,
        0xfff,
        0x1000,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_fff0,
        u32::MAX,
    ];
    let mut found = 0;
    for round in 0..rounds {
        let mut image = seed_image.clone();
        for _ in 0..1 + rng.below(8) {
            match rng.below(4) {
                0 => {
                    let at = rng.below(image.len());
                    image[at] ^= 1 << rng.below(8);
                }
                1 => {
                    // Aligned words in the first 2 KiB hold the headers and tables.
                    let at = rng.below(image.len().min(2048) / 4) * 4;
                    let v = interesting[rng.below(interesting.len())];
                    image[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
                2 => {
                    let at = rng.below(image.len() / 4) * 4;
                    let v = rng.next() as u32;
                    image[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
                _ => image.truncate(rng.below(image.len() + 1).max(4)),
            }
        }
        let result = std::panic::catch_unwind(|| exercise(&image));
        match result {
            Ok(n) => found += n,
            Err(_) => {
                let path = std::env::temp_dir().join(format!("vdso-crash-{seed}-{round}.so"));
                std::fs::write(&path, &image).unwrap();
                panic!(
                    "parser panicked on round {round} (seed {seed}); image saved to {}",
                    path.display()
                );
            }
        }
    }
    // Most mutations leave the lookups intact: the fuzzing reached the lookup code.
    assert!(
        found > rounds,
        "only {found} successful lookups in {rounds} rounds"
    );
}

/// Rewrites every dynamic entry tagged `from` to tag `to` (e.g. to hide DT_GNU_HASH).
fn retag(image: &mut [u8], from: u32, to: u32) -> usize {
    let word =
        |img: &[u8], at: usize| u32::from_le_bytes(img[at..at + 4].try_into().unwrap()) as usize;
    let half =
        |img: &[u8], at: usize| u16::from_le_bytes(img[at..at + 2].try_into().unwrap()) as usize;
    let (phoff, phentsize, phnum) = (word(image, 28), half(image, 42), half(image, 44));
    let mut changed = 0;
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if word(image, ph) != 2 {
            continue; // not PT_DYNAMIC
        }
        let (offset, size) = (word(image, ph + 4), word(image, ph + 16));
        for entry in (offset..offset + size).step_by(8) {
            if word(image, entry) == from as usize {
                image[entry..entry + 4].copy_from_slice(&to.to_le_bytes());
                changed += 1;
            }
        }
    }
    changed
}

const DT_GNU_HASH: u32 = 0x6fff_fef5;
const DT_HASH: u32 = 4;
const DT_VERSYM: u32 = 0x6fff_fff0;
const UNKNOWN_TAG: u32 = 0x6fff_fe00;

#[test]
fn sysv_hash_alone_finds_the_same_symbols() {
    let (mut image, sysinfo) = live_vdso();
    assert_eq!(
        retag(&mut image, DT_GNU_HASH, UNKNOWN_TAG),
        1,
        "the live vDSO has DT_GNU_HASH"
    );
    let elf = Elf::parse(&image[..]).expect("DT_HASH is enough");
    assert_eq!(
        elf.lookup(b"__kernel_vsyscall", b"LINUX_2.5"),
        Some(sysinfo)
    );
    assert_eq!(elf.lookup(b"__kernel_vsyscall", b"LINUX_2.6"), None);
    assert!(elf.lookup(b"__vdso_time", b"LINUX_2.6").is_some());
}

#[test]
fn no_hash_table_is_rejected() {
    let (mut image, _) = live_vdso();
    retag(&mut image, DT_GNU_HASH, UNKNOWN_TAG);
    retag(&mut image, DT_HASH, UNKNOWN_TAG);
    assert!(Elf::parse(&image[..]).is_none());
}

/// Without symbol versions (no DT_VERSYM) a name matches whatever version is asked for, as in
/// the kernel's own reference parser.
#[test]
fn missing_symbol_versions_match_by_name() {
    let (mut image, sysinfo) = live_vdso();
    assert_eq!(retag(&mut image, DT_VERSYM, UNKNOWN_TAG), 1);
    let elf = Elf::parse(&image[..]).unwrap();
    assert_eq!(
        elf.lookup(b"__kernel_vsyscall", b"LINUX_2.6"),
        Some(sysinfo)
    );
}

/// A cut image parses only as far as it goes: no lookup returns an address past the cut, and
/// cuts inside the headers or tables fail outright.
#[test]
fn truncated_images_never_point_past_the_cut() {
    let (image, sysinfo) = live_vdso();
    for len in [
        0,
        4,
        16,
        51,
        52,
        100,
        500,
        1000,
        sysinfo as usize,
        sysinfo as usize + 1,
        image.len() - 1,
    ] {
        let cut = &image[..len];
        let found = Elf::parse(cut).and_then(|elf| elf.lookup(b"__kernel_vsyscall", b"LINUX_2.5"));
        match found {
            Some(at) => assert!(
                (at as usize) < len && at == sysinfo,
                "{len} bytes: found at {at}"
            ),
            None => assert!(
                len <= sysinfo as usize || len < 1000,
                "{len} bytes: the whole table is there"
            ),
        }
    }
}
