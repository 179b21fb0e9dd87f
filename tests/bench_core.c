/*
 * bench_core.c: `make bench-core`.  Raw SHA-256 of 64-byte inputs
 * through OpenSSL EVP (the peer), then the tlog code: hashing records
 * and recomputing every stored hash and the root of a 1,000,000-record
 * tree, each as a ratio of the raw rate, from one run.  Best of three.
 */

/* The low-level SHA-256 calls, which tlog uses, are deprecated. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sumdb.h"

#define NREC	1000000

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct memlog {
	uint8_t		(*h)[SUMDB_HASH_SIZE];
	int64_t		 nh;
};

static int
memlog_read(void *arg, const int64_t *index, size_t n,
    uint8_t (*out)[SUMDB_HASH_SIZE])
{
	struct memlog	*l = arg;
	size_t		 i;

	for (i = 0; i < n; i++)
		memcpy(out[i], l->h[index[i]], SUMDB_HASH_SIZE);
	return 0;
}

int
main(int argc, char **argv)
{
	EVP_MD_CTX		*ctx = EVP_MD_CTX_new();
	const EVP_MD		*md = EVP_sha256();
	struct memlog		 l;
	struct tlog_hash_reader	 hr = { memlog_read, &l };
	uint8_t			 in[64] = { 0 }, out[SUMDB_HASH_SIZE];
	uint8_t			 add[65][SUMDB_HASH_SIZE], root[SUMDB_HASH_SIZE];
	uint8_t			(*leaves)[SUMDB_HASH_SIZE];
	char			*text;
	size_t			*off;
	double			 t0, raw = 0, low = 0, rec = 0, tree = 0, r;
	int64_t			 i, nhash = 0;
	int			 k, m, rep;

	l.h = calloc(tlog_stored_hash_count(NREC), SUMDB_HASH_SIZE);
	leaves = calloc(NREC, SUMDB_HASH_SIZE);
	text = malloc((size_t)NREC * 256);
	off = calloc(NREC + 1, sizeof(*off));
	if (ctx == NULL || l.h == NULL || leaves == NULL || text == NULL ||
	    off == NULL)
		return 1;
	/* Records the size of sum.golang.org's (about 180 bytes). */
	for (i = 0; i < NREC; i++)
		off[i + 1] = off[i] + snprintf(text + off[i], 256,
		    "example.com/module%lld v1.2.%lld h1:%043lld=\n"
		    "example.com/module%lld v1.2.%lld/go.mod h1:%043lld=\n",
		    (long long)i, (long long)i, (long long)i, (long long)i,
		    (long long)i, (long long)i);

	for (rep = 0; rep < 3; rep++) {
		t0 = now();
		for (i = 0; i < 2 * NREC; i++) {
			in[0] = (uint8_t)i;
			EVP_DigestInit_ex(ctx, md, NULL);
			EVP_DigestUpdate(ctx, in, sizeof(in));
			EVP_DigestFinal_ex(ctx, out, NULL);
		}
		if ((r = 2 * NREC / (now() - t0)) > raw)
			raw = r;
		/* "bench_core raw": only the peer's rate, for bench-sync. */
		if (argc > 1 && strcmp(argv[1], "raw") == 0)
			continue;

		/* "bench_core tree": the tree recompute's records/s only. */
		if (argc > 1 && strcmp(argv[1], "tree") == 0)
			goto tree;
		t0 = now();
		for (i = 0; i < 2 * NREC; i++) {
			SHA256_CTX	 sc;

			in[0] = (uint8_t)i;
			SHA256_Init(&sc);
			SHA256_Update(&sc, in, sizeof(in));
			SHA256_Final(out, &sc);
		}
		if ((r = 2 * NREC / (now() - t0)) > low)
			low = r;

		t0 = now();
		for (i = 0; i < NREC; i++)
			tlog_record_hash((uint8_t *)text + off[i],
			    off[i + 1] - off[i], leaves[i]);
		if ((r = NREC / (now() - t0)) > rec)
			rec = r;

		/* From the record texts: every stored hash, then the root. */
 tree:
		t0 = now();
		l.nh = 0;
		nhash = 0;
		for (i = 0; i < NREC; i++) {
			tlog_record_hash((uint8_t *)text + off[i],
			    off[i + 1] - off[i], leaves[i]);
			m = tlog_stored_hashes_for_record(i, leaves[i], &hr,
			    add);
			for (k = 0; k < m; k++)
				memcpy(l.h[l.nh++], add[k], SUMDB_HASH_SIZE);
			nhash += m;
		}
		tlog_tree_hash(NREC, &hr, root);
		/* nhash counts each leaf once and each interior node once. */
		if ((r = nhash / (now() - t0)) > tree)
			tree = r;
	}
	if (argc > 1 && strcmp(argv[1], "raw") == 0) {
		printf("%.0f\n", raw);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "tree") == 0) {
		printf("%.0f\n", tree * NREC / nhash);
		return 0;
	}
	printf("bench-core: SHA-256 and tlog, best of 3, %d records\n", NREC);
	printf("%-44s %12s %8s\n", "", "per second", "ratio");
	printf("%-44s %12.0f %8.2f\n", "raw SHA-256, 64-byte inputs (EVP)",
	    raw, 1.0);
	printf("%-44s %12.0f %8.2f\n", "raw SHA-256, 64-byte inputs (SHA256_Init)",
	    low, low / raw);
	printf("%-44s %12.0f %8.2f\n", "tlog_record_hash, 180-byte records",
	    rec, rec / raw);
	printf("%-44s %12.0f %8.2f\n", "tree recompute, hashes (leaf + node)",
	    tree, tree / raw);
	printf("%-44s %12.0f %8s\n", "tree recompute, records", tree * NREC /
	    nhash, "");
	printf("tree recompute against SHA256_Init rate: %.2f\n", tree / low);
	printf("goal: tree recompute >= 0.5 of raw: %s\n",
	    tree / raw >= 0.5 ? "met" : "MISSED");
	EVP_MD_CTX_free(ctx);
	free(l.h);
	free(leaves);
	free(text);
	free(off);
	return 0;
}
