/* Prints the syscall mode of the libptcancel.a this program is statically linked with. */
#include <stdio.h>

#include "ptcancel.h"

int main(void)
{
    puts(ptcancel_syscall_mode());
    return 0;
}
