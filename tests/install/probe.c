/* Run by tests/install.rs through the ptcancel launcher: says whether ptcancel (and the test's
 * marker library) is loaded, what LD_PRELOAD holds and which arguments arrived. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    const char *(*version)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "ptcancel_version");
    const char *(*mode)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "ptcancel_syscall_mode");
    const char *preload = getenv("LD_PRELOAD");
    printf("ptcancel=%s mode=%s marker=%s LD_PRELOAD=%s args=", version ? version() : "none",
           mode ? mode() : "none", dlsym(RTLD_DEFAULT, "ptcancel_test_marker") ? "yes" : "no",
           preload ? preload : "(unset)");
    for (int i = 1; i < argc; i++)
        printf("%s%s", i > 1 ? "," : "", argv[i]);
    printf("\n");
    return 0;
}
