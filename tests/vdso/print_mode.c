/* Prints the syscall mode of a preloaded libptcancel.so, or "none" without one. */
#include <dlfcn.h>
#include <stdio.h>

int main(void)
{
    const char *(*mode)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "ptcancel_syscall_mode");
    puts(mode ? mode() : "none");
    return 0;
}
