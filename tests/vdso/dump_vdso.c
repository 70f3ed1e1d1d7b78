/* Writes this process's vDSO image (from its ELF header to the end of its last PT_LOAD
 * segment) to stdout, then prints AT_SYSINFO's offset from the header on stderr.
 * Built with -m32 by tests/vdso.rs: the i386 vDSO is what the library parses. */
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <unistd.h>

int main(void)
{
    const unsigned char *base = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
    if (!base)
        return 1;
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)base;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(base + eh->e_phoff);
    size_t end = 0, bias = (size_t)-1;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD)
            continue;
        if (bias == (size_t)-1)
            bias = ph[i].p_vaddr - ph[i].p_offset;
        if (ph[i].p_vaddr - bias + ph[i].p_memsz > end)
            end = ph[i].p_vaddr - bias + ph[i].p_memsz;
    }
    fwrite(base, 1, end, stdout);
    fprintf(stderr, "%lu\n", getauxval(AT_SYSINFO) ? getauxval(AT_SYSINFO) - (unsigned long)base : 0);
    return 0;
}
