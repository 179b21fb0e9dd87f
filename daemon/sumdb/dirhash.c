/*
 * dirhash.c: the "h1:" hash of golang.org/x/mod/sumdb/dirhash: SHA-256
 * over the lines "<hex sha256(file)>  <name>\n", sorted bytewise by
 * name, for a module zip (every entry, named as stored, contents
 * uncompressed) and for a go.mod file (the single name "go.mod").
 * Zips are read with libzip, from memory or from a file descriptor,
 * and streamed through the hash; x/mod/zip's size limits hold for what
 * they inflate to, so a zip bomb is refused, not inflated.
 */

#include <sys/stat.h>

#include <openssl/evp.h>
#include <zip.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sumdb.h"

/* One file of a summary: its name and the SHA-256 of its contents. */
struct entry {
	const char	*name;
	uint64_t	 index;		/* zip entry */
	uint8_t		 sum[SUMDB_HASH_SIZE];
};

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
	    ((const struct entry *)b)->name);
}

/*
 * The h1 of sorted entries e[0..n-1], each with its content hash.
 * Rejects names with a newline and duplicate names.
 */
static int
summary(const struct entry *e, size_t n, char out[SUMDB_H1_SIZE])
{
	static const char	 hex[] = "0123456789abcdef";
	EVP_MD_CTX		*ctx;
	uint8_t			 h[SUMDB_HASH_SIZE];
	char			 line[2 * SUMDB_HASH_SIZE + 2];
	size_t			 i, k;
	int			 rv = SUMDB_EFORMAT;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return SUMDB_ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rv = SUMDB_ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (strchr(e[i].name, '\n') != NULL ||
		    (i > 0 && strcmp(e[i - 1].name, e[i].name) == 0))
			goto done;
		for (k = 0; k < SUMDB_HASH_SIZE; k++) {
			line[2 * k] = hex[e[i].sum[k] >> 4];
			line[2 * k + 1] = hex[e[i].sum[k] & 15];
		}
		line[2 * SUMDB_HASH_SIZE] = ' ';
		line[2 * SUMDB_HASH_SIZE + 1] = ' ';
		EVP_DigestUpdate(ctx, line, sizeof(line));
		EVP_DigestUpdate(ctx, e[i].name, strlen(e[i].name));
		EVP_DigestUpdate(ctx, "\n", 1);
	}
	EVP_DigestFinal_ex(ctx, h, NULL);
	memcpy(out, "h1:", 3);
	sumdb_b64_encode(h, sizeof(h), out + 3);
	rv = 0;
 done:
	EVP_MD_CTX_free(ctx);
	return rv;
}

int
dirhash_hash1(struct dirhash_file *f, size_t n, char out[SUMDB_H1_SIZE])
{
	struct entry	*e;
	size_t		 i;
	int		 rv;

	if (n > 0 && (e = calloc(n, sizeof(*e))) == NULL)
		return SUMDB_ENOMEM;
	else if (n == 0)
		e = NULL;
	for (i = 0; i < n; i++) {
		e[i].name = f[i].name;
		sumdb_sha256(f[i].data, f[i].len, e[i].sum);
	}
	if (n > 0)
		qsort(e, n, sizeof(*e), entry_cmp);
	rv = summary(e, n, out);
	free(e);
	return rv;
}

int
dirhash_gomod(const uint8_t *p, size_t len, char out[SUMDB_H1_SIZE])
{
	struct dirhash_file	 f = { "go.mod", p, len };

	return dirhash_hash1(&f, 1, out);
}

/*
 * The most a file of the module may hold: x/mod/zip refuses a go.mod
 * or LICENSE at the module root over 16 MiB.
 */
static uint64_t
file_max(const char *name, const char *prefix)
{
	size_t	 plen;

	if (prefix == NULL)
		return DIRHASH_ZIP_MAX;
	plen = strlen(prefix);
	if (strcmp(name + plen, "go.mod") == 0 ||
	    strcmp(name + plen, "LICENSE") == 0)
		return DIRHASH_FILE_MAX;
	return DIRHASH_ZIP_MAX;
}

/*
 * Hash zip entry e->index into e->sum; its declared size must hold,
 * stay within max, and keep the total within DIRHASH_ZIP_MAX.
 */
static int
hash_entry(zip_t *za, struct entry *e, uint64_t max, uint64_t *total)
{
	EVP_MD_CTX	*ctx = NULL;
	zip_file_t	*zf = NULL;
	zip_stat_t	 st;
	uint8_t		 buf[65536];
	zip_int64_t	 r;
	uint64_t	 got = 0;
	int		 rv = SUMDB_EFORMAT;

	zip_stat_init(&st);
	if (zip_stat_index(za, e->index, ZIP_FL_ENC_RAW, &st) != 0 ||
	    !(st.valid & ZIP_STAT_SIZE))
		return SUMDB_EFORMAT;
	if (st.size > max || st.size > DIRHASH_ZIP_MAX - *total)
		return SUMDB_ELIMIT;
	*total += st.size;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rv = SUMDB_ENOMEM;
		goto done;
	}
	if ((zf = zip_fopen_index(za, e->index, 0)) == NULL)
		goto done;
	while ((r = zip_fread(zf, buf, sizeof(buf))) > 0) {
		got += (uint64_t)r;
		if (got > st.size)
			goto done;
		EVP_DigestUpdate(ctx, buf, (size_t)r);
	}
	if (r < 0 || got != st.size)
		goto done;
	EVP_DigestFinal_ex(ctx, e->sum, NULL);
	rv = 0;
 done:
	if (zf != NULL)
		zip_fclose(zf);
	EVP_MD_CTX_free(ctx);
	return rv;
}

/* The h1 of the zip read from src, which this takes over. */
static int
hash_source(zip_source_t *src, const char *prefix, char out[SUMDB_H1_SIZE])
{
	zip_error_t	 zerr;
	zip_t		*za = NULL;
	struct entry	*e = NULL;
	zip_int64_t	 n;
	uint64_t	 i, total = 0;
	int		 rv = SUMDB_EFORMAT;

	zip_error_init(&zerr);
	if ((za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS,
	    &zerr)) == NULL) {
		zip_source_free(src);
		goto done;
	}
	if ((n = zip_get_num_entries(za, 0)) < 0)
		goto done;
	if (n > 0 && (e = calloc((size_t)n, sizeof(*e))) == NULL) {
		rv = SUMDB_ENOMEM;
		goto done;
	}
	for (i = 0; i < (uint64_t)n; i++) {
		e[i].index = i;
		/* Raw bytes: names are hashed as stored, never recoded. */
		if ((e[i].name = zip_get_name(za, i, ZIP_FL_ENC_RAW)) == NULL)
			goto done;
		if (prefix != NULL &&
		    strncmp(e[i].name, prefix, strlen(prefix)) != 0)
			goto done;
		if ((rv = hash_entry(za, &e[i], file_max(e[i].name, prefix),
		    &total)) != 0)
			goto done;
	}
	rv = SUMDB_EFORMAT;
	if (n > 0)
		qsort(e, (size_t)n, sizeof(*e), entry_cmp);
	rv = summary(e, (size_t)n, out);
 done:
	free(e);
	if (za != NULL)
		zip_discard(za);
	zip_error_fini(&zerr);
	return rv;
}

int
dirhash_zip(const uint8_t *p, size_t len, const char *prefix,
    char out[SUMDB_H1_SIZE])
{
	zip_source_t	*src;

	if (len > DIRHASH_ZIP_MAX)
		return SUMDB_ELIMIT;
	if (len < 22)		/* shorter than an end-of-directory record */
		return SUMDB_EFORMAT;
	if ((src = zip_source_buffer_create(p, len, 0, NULL)) == NULL)
		return SUMDB_ENOMEM;
	return hash_source(src, prefix, out);
}

int
dirhash_zip_fd(int fd, const char *prefix, char out[SUMDB_H1_SIZE])
{
	struct stat	 sb;
	zip_source_t	*src;
	FILE		*fp;
	int		 dfd;

	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode))
		return SUMDB_EREAD;
	if (sb.st_size > DIRHASH_ZIP_MAX)
		return SUMDB_ELIMIT;
	if (sb.st_size < 22)
		return SUMDB_EFORMAT;
	/* libzip closes what it reads: give it a descriptor of its own. */
	if ((dfd = dup(fd)) == -1)
		return SUMDB_EREAD;
	if ((fp = fdopen(dfd, "rb")) == NULL) {
		close(dfd);
		return SUMDB_ENOMEM;
	}
	if ((src = zip_source_filep_create(fp, 0, sb.st_size, NULL)) ==
	    NULL) {
		fclose(fp);
		return SUMDB_ENOMEM;
	}
	return hash_source(src, prefix, out);
}
