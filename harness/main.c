/* main.c - the command-line front end (being written). */
#include <stdio.h>

int main(void)
{
    fputs("isbench: not built yet\n", stderr);
    return 1;
}
