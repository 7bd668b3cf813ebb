/* A shared object without isb_sampler_entry, for test_registry.c. */
int isb_not_the_entry(void);

int isb_not_the_entry(void)
{
    return 1;
}
