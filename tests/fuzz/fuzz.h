/*
 * fuzz.h: what every fuzz target shares.  A target defines
 * LLVMFuzzerTestOneInput(), which libFuzzer drives under clang (make
 * fuzz) and driver.c drives over a corpus under any compiler (make
 * check).  Invariants are assert()s: a failed one aborts, and both
 * count that as a crash.
 */

#ifndef FUZZ_H
#define FUZZ_H

#undef NDEBUG
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *p, size_t len);

/* A NUL-terminated copy of p[0..len-1], to free(). */
static inline char *
fuzz_str(const uint8_t *p, size_t len)
{
	char	*s;

	if ((s = malloc(len + 1)) == NULL)
		abort();
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

#endif /* FUZZ_H */
