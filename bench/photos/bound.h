// bound.h: what the measurement programs bench/photos/*_bound.c share: a
// monotonic clock in milliseconds, and their command line (FILE [REPS])
// with the file read into memory.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// bound_args reads argv[1] into memory (its size in *n) and the number of
// repetitions from argv[2] (default 5) into *reps; it exits with a message
// when the command line or the file is wrong. usage names the file, e.g.
// "FILE.png".
static unsigned char *bound_args(int argc, char **argv, const char *usage, size_t *n, int *reps) {
	if (argc < 2) {
		fprintf(stderr, "usage: %s %s [REPS]\n", argv[0], usage);
		exit(2);
	}
	*reps = argc > 2 ? atoi(argv[2]) : 5;
	FILE *f = fopen(argv[1], "rb");
	if (f == NULL) {
		perror(argv[1]);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	rewind(f);
	unsigned char *data = malloc(*n ? *n : 1);
	if (data == NULL || fread(data, 1, *n, f) != *n) {
		fprintf(stderr, "cannot read %s\n", argv[1]);
		exit(1);
	}
	fclose(f);
	return data;
}
