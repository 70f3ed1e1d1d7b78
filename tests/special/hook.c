/* A shared object whose constructor leaves a mark: if ptcancel ever loaded it from
 * PTCANCEL_TEST_VDSO in a set-uid program, the file named by HOOK_MARK would appear. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void mark(void)
{
    const char *path = getenv("HOOK_MARK");
    if (path)
        close(open(path, O_WRONLY | O_CREAT, 0644));
}
