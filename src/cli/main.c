/* The weir command: dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--version")) {
        printf("weir %s\n", WEIR_VERSION);
        return 0;
    }
    fprintf(stderr, "usage: weir COMMAND [options]\n");
    return 6;
}
