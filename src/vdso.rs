//! Symbol lookup in an ELF32 image mapped in memory: the i386 vDSO (or, for tests, a shared
//! object standing in for it). Dynamic symbols through DT_GNU_HASH or DT_HASH, with symbol
//! versions when the image has them.
//!
//! The image is untrusted input: every read is bounds-checked against the image and must lie
//! inside a PT_LOAD segment, and every walk is bounded, so a corrupt or truncated image gives
//! `None`, never a fault. Only `core` is used, so tests can build this file with std and fuzz
//! it on byte buffers.

/// Read access to an image that starts at its ELF header.
pub trait Image {
    /// `len` bytes at offset `at`, or `None` if out of range.
    fn bytes(&self, at: usize, len: usize) -> Option<&[u8]>;

    /// The address the image is mapped at, if the dynamic linker relocated its dynamic section
    /// (glibc adds the load address to DT_HASH, DT_GNU_HASH, DT_STRTAB, DT_SYMTAB and
    /// DT_VERSYM of an object it loaded, not to DT_VERDEF; the kernel's vDSO is never
    /// relocated).
    fn relocated_to(&self) -> Option<u32> {
        None
    }
}

impl Image for [u8] {
    fn bytes(&self, at: usize, len: usize) -> Option<&[u8]> {
        self.get(at..at.checked_add(len)?)
    }
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const DT_NULL: u32 = 0;
const DT_HASH: u32 = 4;
const DT_STRTAB: u32 = 5;
const DT_SYMTAB: u32 = 6;
const DT_STRSZ: u32 = 10;
const DT_GNU_HASH: u32 = 0x6fff_fef5;
const DT_VERSYM: u32 = 0x6fff_fff0;
const DT_VERDEF: u32 = 0x6fff_fffc;
const DT_VERDEFNUM: u32 = 0x6fff_fffd;
const SYM_SIZE: u32 = 16;
const MAX_SEGMENTS: usize = 8;
/// Bounds every walk over symbols, chains and version definitions.
const MAX_SYMBOLS: u32 = 1 << 16;

/// A parsed image: where its tables are, as offsets from the ELF header.
pub struct Elf<'a, I: Image + ?Sized> {
    image: &'a I,
    /// PT_LOAD segments as [start, end) offsets: reads outside them are refused.
    segments: [(u32, u32); MAX_SEGMENTS],
    nsegments: usize,
    /// p_vaddr - p_offset of the first PT_LOAD: subtract from a vaddr to get an offset.
    bias: u32,
    symtab: u32,
    strtab: u32,
    strsz: u32,
    hash: Option<u32>,
    gnu_hash: Option<u32>,
    versym: Option<u32>,
    verdef: Option<(u32, u32)>,
}

fn u16_at<I: Image + ?Sized>(image: &I, at: u32) -> Option<u16> {
    let b = image.bytes(at as usize, 2)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at<I: Image + ?Sized>(image: &I, at: u32) -> Option<u32> {
    let b = image.bytes(at as usize, 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The header fields needed to find the program headers: (e_phoff, e_phnum, e_phentsize),
/// after checking that this is a little-endian ELF32 i386 shared object.
pub fn program_headers<I: Image + ?Sized>(image: &I) -> Option<(u32, u16, u16)> {
    let ident = image.bytes(0, 16)?;
    let is_elf32_le = ident[..4] == *b"\x7fELF" && ident[4] == 1 && ident[5] == 1;
    let (e_type, machine) = (u16_at(image, 16)?, u16_at(image, 18)?);
    if !is_elf32_le || e_type != 3 || machine != 3 {
        return None;
    }
    let (phoff, phentsize, phnum) = (u32_at(image, 28)?, u16_at(image, 42)?, u16_at(image, 44)?);
    if phentsize < 32 || phnum as usize > 64 {
        return None;
    }
    Some((phoff, phnum, phentsize))
}

/// The highest offset that a PT_LOAD segment reaches, i.e. how much of the image must be
/// readable: used to size the mapped image before parsing it.
pub fn mapped_size<I: Image + ?Sized>(image: &I) -> Option<u32> {
    let (phoff, phnum, phentsize) = program_headers(image)?;
    let mut bias = None;
    let mut end = 0u32;
    for i in 0..phnum as u32 {
        let ph = phoff.checked_add(i.checked_mul(phentsize as u32)?)?;
        if u32_at(image, ph)? != PT_LOAD {
            continue;
        }
        let (offset, vaddr, memsz) = (
            u32_at(image, ph.checked_add(4)?)?,
            u32_at(image, ph.checked_add(8)?)?,
            u32_at(image, ph.checked_add(20)?)?,
        );
        let bias = *bias.get_or_insert(vaddr.checked_sub(offset)?);
        end = end.max(vaddr.checked_sub(bias)?.checked_add(memsz)?);
    }
    Some(end)
}

impl<'a, I: Image + ?Sized> Elf<'a, I> {
    /// Parses the headers and the dynamic section; `None` if anything is missing or malformed.
    pub fn parse(image: &'a I) -> Option<Self> {
        let (phoff, phnum, phentsize) = program_headers(image)?;
        let mut elf = Elf {
            image,
            segments: [(0, 0); MAX_SEGMENTS],
            nsegments: 0,
            bias: 0,
            symtab: 0,
            strtab: 0,
            strsz: 0,
            hash: None,
            gnu_hash: None,
            versym: None,
            verdef: None,
        };
        let mut dynamic = None;
        for i in 0..phnum as u32 {
            let ph = phoff.checked_add(i.checked_mul(phentsize as u32)?)?;
            let (p_type, offset, vaddr) = (
                u32_at(image, ph)?,
                u32_at(image, ph.checked_add(4)?)?,
                u32_at(image, ph.checked_add(8)?)?,
            );
            let memsz = u32_at(image, ph.checked_add(20)?)?;
            match p_type {
                PT_LOAD if elf.nsegments < MAX_SEGMENTS => {
                    if elf.nsegments == 0 {
                        elf.bias = vaddr.checked_sub(offset)?;
                    }
                    let start = vaddr.checked_sub(elf.bias)?;
                    elf.segments[elf.nsegments] = (start, start.checked_add(memsz)?);
                    elf.nsegments += 1;
                }
                PT_DYNAMIC => dynamic = Some((vaddr, memsz)),
                _ => {}
            }
        }
        let (dyn_vaddr, dyn_size) = dynamic?;
        let dyn_at = elf.offset(dyn_vaddr)?;
        let load = image.relocated_to().unwrap_or(0);
        // A dynamic-section pointer as a virtual address of the image.
        let bias = elf.bias;
        let ptr = |value: u32| value.checked_sub(load)?.checked_sub(bias);
        let (mut symtab, mut strtab, mut verdef, mut verdefnum) = (None, None, None, None);
        for i in 0..(dyn_size / 8).min(256) {
            let entry = dyn_at.checked_add(i * 8)?;
            let (tag, value) = (elf.read_u32(entry)?, elf.read_u32(entry.checked_add(4)?)?);
            match tag {
                DT_NULL => break,
                DT_HASH => elf.hash = Some(ptr(value)?),
                DT_GNU_HASH => elf.gnu_hash = Some(ptr(value)?),
                DT_STRTAB => strtab = Some(ptr(value)?),
                DT_SYMTAB => symtab = Some(ptr(value)?),
                DT_STRSZ => elf.strsz = value,
                DT_VERSYM => elf.versym = Some(ptr(value)?),
                DT_VERDEF => verdef = Some(elf.offset(value)?), // glibc leaves this one as it is
                DT_VERDEFNUM => verdefnum = Some(value),
                _ => {}
            }
        }
        elf.symtab = symtab?;
        elf.strtab = strtab?;
        if let (Some(at), Some(count)) = (verdef, verdefnum) {
            elf.verdef = Some((at, count));
        }
        if elf.hash.is_none() && elf.gnu_hash.is_none() {
            return None;
        }
        Some(elf)
    }

    /// The image offset of virtual address `vaddr`.
    fn offset(&self, vaddr: u32) -> Option<u32> {
        vaddr.checked_sub(self.bias)
    }

    /// `len` bytes at `at`, only if they lie inside one PT_LOAD segment.
    fn read(&self, at: u32, len: u32) -> Option<&'a [u8]> {
        let end = at.checked_add(len)?;
        let inside = self.segments[..self.nsegments]
            .iter()
            .any(|&(s, e)| s <= at && end <= e);
        if !inside {
            return None;
        }
        self.image.bytes(at as usize, len as usize)
    }

    fn read_u32(&self, at: u32) -> Option<u32> {
        let b = self.read(at, 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn read_u16(&self, at: u32) -> Option<u16> {
        let b = self.read(at, 2)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }

    /// Is the NUL-terminated string at strtab + `name` equal to `want`?
    fn name_is(&self, name: u32, want: &[u8]) -> bool {
        let len = want.len() as u32;
        if name.checked_add(len).is_none_or(|end| end >= self.strsz) {
            return false;
        }
        let Some(at) = self.strtab.checked_add(name) else {
            return false;
        };
        self.read(at, len + 1)
            .is_some_and(|s| &s[..want.len()] == want && s[want.len()] == 0)
    }

    /// Does symbol `index` have version `version` (or the image has no version information)?
    fn version_is(&self, index: u32, version: &[u8]) -> bool {
        let (Some(versym), Some((mut def, count))) = (self.versym, self.verdef) else {
            return true; // unversioned image: nothing to check, as the kernel's own parser does
        };
        let Some(ndx) = index
            .checked_mul(2)
            .and_then(|o| versym.checked_add(o))
            .and_then(|at| self.read_u16(at))
        else {
            return false;
        };
        let ndx = ndx & 0x7fff;
        for _ in 0..count.min(MAX_SYMBOLS) {
            let Some((vd_ndx, vd_aux, vd_next)) = self.verdef_entry(def) else {
                return false;
            };
            if vd_ndx == ndx {
                let name = def.checked_add(vd_aux).and_then(|aux| self.read_u32(aux));
                return name.is_some_and(|n| self.name_is(n, version));
            }
            match def.checked_add(vd_next) {
                Some(next) if vd_next != 0 => def = next,
                _ => return false,
            }
        }
        false
    }

    /// (vd_ndx, vd_aux, vd_next) of the version definition at `def`.
    fn verdef_entry(&self, def: u32) -> Option<(u16, u32, u32)> {
        Some((
            self.read_u16(def.checked_add(4)?)?,
            self.read_u32(def.checked_add(12)?)?,
            self.read_u32(def.checked_add(16)?)?,
        ))
    }

    /// Symbol `index`, if it is a defined function or object named `name` with `version`:
    /// its virtual address.
    fn match_symbol(&self, index: u32, name: &[u8], version: &[u8]) -> Option<u32> {
        let sym = self.symtab.checked_add(index.checked_mul(SYM_SIZE)?)?;
        let (st_name, st_value, info) = (
            self.read_u32(sym)?,
            self.read_u32(sym.checked_add(4)?)?,
            self.read(sym + 12, 1)?[0],
        );
        let shndx = self.read_u16(sym.checked_add(14)?)?;
        let typ = info & 0xf;
        let defined = shndx != 0 && (typ == 1 || typ == 2) && info >> 4 != 0; // OBJECT/FUNC, not LOCAL
        (defined && self.name_is(st_name, name) && self.version_is(index, version))
            .then_some(st_value)
    }

    /// The offset from the ELF header of symbol `name` at `version`.
    pub fn lookup(&self, name: &[u8], version: &[u8]) -> Option<u32> {
        let vaddr = match self.gnu_hash {
            Some(table) => self.lookup_gnu(table, name, version),
            None => self.lookup_sysv(self.hash?, name, version),
        }?;
        let at = self.offset(vaddr)?;
        self.read(at, 1).map(|_| at)
    }

    fn lookup_sysv(&self, table: u32, name: &[u8], version: &[u8]) -> Option<u32> {
        let (nbucket, nchain) = (self.read_u32(table)?, self.read_u32(table.checked_add(4)?)?);
        if nbucket == 0 {
            return None;
        }
        let h = name.iter().fold(0u32, |h, &c| {
            let h = (h << 4).wrapping_add(c as u32);
            (h ^ ((h & 0xf000_0000) >> 24)) & 0x0fff_ffff
        });
        let buckets = table + 8;
        let chains = buckets.checked_add(nbucket.checked_mul(4)?)?;
        let mut index = self.read_u32(buckets.checked_add((h % nbucket).checked_mul(4)?)?)?;
        for _ in 0..nchain.min(MAX_SYMBOLS) {
            if index == 0 || index >= nchain {
                return None;
            }
            if let Some(value) = self.match_symbol(index, name, version) {
                return Some(value);
            }
            index = self.read_u32(chains.checked_add(index.checked_mul(4)?)?)?;
        }
        None
    }

    fn lookup_gnu(&self, table: u32, name: &[u8], version: &[u8]) -> Option<u32> {
        let (nbuckets, symoffset, bloom_size) = (
            self.read_u32(table)?,
            self.read_u32(table.checked_add(4)?)?,
            self.read_u32(table.checked_add(8)?)?,
        );
        if nbuckets == 0 {
            return None;
        }
        let h = name
            .iter()
            .fold(5381u32, |h, &c| h.wrapping_mul(33).wrapping_add(c as u32));
        let buckets = table
            .checked_add(16)?
            .checked_add(bloom_size.checked_mul(4)?)?;
        let chains = buckets.checked_add(nbuckets.checked_mul(4)?)?;
        let mut index = self.read_u32(buckets.checked_add((h % nbuckets).checked_mul(4)?)?)?;
        if index < symoffset {
            return None;
        }
        for _ in 0..MAX_SYMBOLS {
            let chain = self.read_u32(chains.checked_add((index - symoffset).checked_mul(4)?)?)?;
            if chain | 1 == h | 1
                && let Some(value) = self.match_symbol(index, name, version)
            {
                return Some(value);
            }
            if chain & 1 != 0 {
                return None;
            }
            index = index.checked_add(1)?;
        }
        None
    }
}
