#include "master/master.h"
#include <stdio.h>
int master_main(int argc, char **argv) { fprintf(stderr, "not built yet\n"); return 10; }
