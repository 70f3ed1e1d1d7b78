/* Linked with -static: the launcher must refuse it (nothing can be preloaded into it). */
int main(void)
{
    return 0;
}
