/*
 * sumdb.h: the Go checksum database's formats and Merkle math, byte for
 * byte compatible with golang.org/x/mod/sumdb.  Pure code: no I/O, no
 * logging, no global state.  Growing output is appended to an evbuffer
 * owned by the caller; fixed-size results go into caller arrays.
 */

#ifndef SUMDB_H
#define SUMDB_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

#define SUMDB_HASH_SIZE		32
#define SUMDB_TILE_HEIGHT	8		/* what the go command uses */
#define SUMDB_NOTE_MAX		1000000		/* x/mod tlog.ParseTree */
#define SUMDB_NOTE_MAXSIGS	100		/* x/mod note.Open */
#define SUMDB_NAME_MAX		512		/* key and signer names */
#define SUMDB_PROOF_MAX		64		/* hashes in a proof */
#define SUMDB_H1_SIZE		48		/* "h1:" + 44 base64 + NUL */
#define SUMDB_PATH_MAX		1024		/* module path or version */
#define SUMDB_TILE_PATH_MAX	96		/* longest canonical tile path */

/* Error codes shared by every module. */
#define SUMDB_OK		0
#define SUMDB_EFORMAT		-1	/* malformed input */
#define SUMDB_ESIG		-2	/* bad or missing signature */
#define SUMDB_EPROOF		-3	/* proof or tile does not verify */
#define SUMDB_ENOMEM		-4	/* out of memory */
#define SUMDB_EKEY		-5	/* malformed key, or hash mismatch */
#define SUMDB_ERANGE		-6	/* index or size outside the tree */
#define SUMDB_EREAD		-7	/* a caller's reader callback failed */
#define SUMDB_ELIMIT		-8	/* input exceeds a size limit */

/* Name of a SUMDB_E* code, for messages. */
const char	*sumdb_strerror(int code);

/* encode.c */

/* SHA-256 of p[0..len-1] into out. */
void	sumdb_sha256(const void *p, size_t len, uint8_t out[SUMDB_HASH_SIZE]);

/* SHA-256 of the byte prefix followed by p[0..len-1]. */
void	sumdb_sha256_prefixed(uint8_t prefix, const void *p, size_t len,
	    uint8_t out[SUMDB_HASH_SIZE]);

/* Bytes needed to hold the base64 of len bytes, with NUL. */
#define SUMDB_B64_SIZE(len)	(((len) + 2) / 3 * 4 + 1)

/*
 * Standard base64 with padding of p[0..len-1] into out, which holds
 * SUMDB_B64_SIZE(len) bytes.  Returns the length written, without NUL.
 */
size_t	sumdb_b64_encode(const uint8_t *p, size_t len, char *out);

/*
 * Decode standard padded base64 (RFC 4648 section 4) as Go's
 * base64.StdEncoding does, except that CR and LF are not skipped.  At
 * most outsize bytes are written; with out NULL the input is only
 * checked.  Returns the decoded length, or SUMDB_EFORMAT (also when the
 * result would exceed outsize).
 */
int	sumdb_b64_decode(const char *s, size_t len, uint8_t *out,
	    size_t outsize);

/*
 * Parse a canonical non-negative decimal int64 (no sign, no leading
 * zero, as Go's strconv.FormatInt writes it).  Returns 0 or
 * SUMDB_EFORMAT.
 */
int	sumdb_parse_int64(const char *s, size_t len, int64_t *out);

/* Whether p[0..len-1] is valid UTF-8 (no surrogates, no overlongs). */
int	sumdb_utf8_valid(const uint8_t *p, size_t len);

/* note.c */

/* Key types: a log's Ed25519 key, a witness's cosignature/v1 key. */
#define NOTE_ED25519	1
#define NOTE_COSIG_V1	4

/* A verifier key: "<name>+<hash>+<base64(alg || pub)>". */
struct note_verifier {
	int		 alg;			/* NOTE_ED25519, NOTE_COSIG_V1 */
	char		 name[SUMDB_NAME_MAX];	/* NUL-terminated */
	uint32_t	 hash;			/* key hash */
	uint8_t		 pub[32];		/* Ed25519 public key */
};

/* A signer key: lives in sodium guarded memory. Opaque. */
struct note_signer;

/* A signed note that note_open() accepted. */
struct note {
	const uint8_t	*text;		/* borrowed from the message */
	size_t		 textlen;	/* includes the final '\n' */
	uint64_t	 verified;	/* bit i: verifier i signed (i < 64) */
	size_t		 nverified;	/* verified signatures */
	size_t		 nunverified;	/* signatures by unknown keys */
};

/* Key hash (key ID): SHA-256(name "\n" alg pub)[0:4]. */
uint32_t note_key_hash(int alg, const char *name, size_t namelen,
	    const uint8_t pub[32]);

/* Whether name is a valid key name (x/mod isValidName). */
int	note_name_valid(const char *name, size_t len);

/*
 * Parse a verifier key.  Returns 0, SUMDB_EKEY for a malformed key,
 * a wrong hash or an unknown algorithm.
 */
int	note_verifier_parse(const char *vkey, size_t len,
	    struct note_verifier *v);

/* The same for a witness's key (type NOTE_COSIG_V1). */
int	note_cosigner_parse(const char *vkey, size_t len,
	    struct note_verifier *v);

/* Format v as a verifier key, appended to out. Returns 0 or ENOMEM. */
int	note_verifier_format(const struct note_verifier *v,
	    struct evbuffer *out);

/*
 * Parse a "PRIVATE+KEY+<name>+<hash>+<base64(alg || seed)>" key into
 * guarded memory.  Returns a signer to release with note_signer_free(),
 * or NULL with *err set to SUMDB_EKEY or SUMDB_ENOMEM.  The caller
 * should wipe skey itself.
 */
struct note_signer *note_signer_parse(const char *skey, size_t len,
	    int *err);
void	note_signer_free(struct note_signer *s);

/* NOTE_ED25519 (a log's key) or NOTE_COSIG_V1 (a witness's). */
int	note_signer_alg(const struct note_signer *s);

/* The verifier that matches signer s, filled into *v. */
void	note_signer_verifier(const struct note_signer *s,
	    struct note_verifier *v);

/*
 * Generate a new key pair of type alg named name, from libsodium's
 * CSPRNG.  Returns the signer (note_signer_format() writes its key), or
 * NULL with *err set to SUMDB_EKEY (invalid name or type) or
 * SUMDB_ENOMEM.
 */
struct note_signer *note_signer_generate(const char *name, int alg,
	    int *err);

/*
 * Write the "PRIVATE+KEY+..." form of s into buf of size bufsize
 * (normally sodium_malloc() memory).  Returns the length or
 * SUMDB_ELIMIT if it does not fit.
 */
int	note_signer_format(const struct note_signer *s, char *buf,
	    size_t bufsize);

/*
 * Verify a signed note against the verifiers v[0..nv-1] (nv <= 64),
 * log keys and cosigners alike.  Unknown signers are counted and
 * ignored; a bad signature by a known key, a malformed note or a note
 * that no known key signed is rejected.
 * Returns 0 with *n filled (n->text points into msg), SUMDB_EFORMAT,
 * SUMDB_ESIG or SUMDB_ELIMIT.
 */
int	note_open(const uint8_t *msg, size_t len,
	    const struct note_verifier *v, size_t nv, struct note *n);

/*
 * Sign text (which must end in '\n') with signers s[0..ns-1] and append
 * the signed note to out.  Returns 0, SUMDB_EFORMAT, SUMDB_EKEY (a
 * witness's key) or SUMDB_ENOMEM.
 */
int	note_sign(const uint8_t *text, size_t len,
	    struct note_signer *const *s, size_t ns, struct evbuffer *out);

/*
 * Append witness s's cosignature/v1 line of note text text (ending in
 * '\n', no signatures) at POSIX time t to out.  Returns 0,
 * SUMDB_EFORMAT, SUMDB_EKEY (not a witness's key) or SUMDB_ENOMEM.
 */
int	note_cosign(const uint8_t *text, size_t len,
	    const struct note_signer *s, int64_t t, struct evbuffer *out);

/* tlog.c */

/* A tree: its size and root hash, as in a checkpoint. */
struct tlog_tree {
	int64_t		 n;
	uint8_t		 hash[SUMDB_HASH_SIZE];
};

/*
 * Where the tlog functions get stored hashes from: fill out[i] with the
 * stored hash at index[i] for i < n.  Return 0, or non-zero to fail
 * the caller with SUMDB_EREAD.
 */
struct tlog_hash_reader {
	int	(*read_hashes)(void *arg, const int64_t *index, size_t n,
		    uint8_t (*out)[SUMDB_HASH_SIZE]);
	void	*arg;
};

/* The leaf hash of a record: SHA-256(0x00 || data). */
void	tlog_record_hash(const uint8_t *data, size_t len,
	    uint8_t out[SUMDB_HASH_SIZE]);

/* An interior hash: SHA-256(0x01 || l || r). */
void	tlog_node_hash(const uint8_t l[SUMDB_HASH_SIZE],
	    const uint8_t r[SUMDB_HASH_SIZE], uint8_t out[SUMDB_HASH_SIZE]);

/* The hash of the empty tree, SHA-256(""). */
void	tlog_empty_hash(uint8_t out[SUMDB_HASH_SIZE]);

/* Index in stored-hash order of the hash at (level, n). */
int64_t	tlog_stored_hash_index(int level, int64_t n);

/* The inverse of tlog_stored_hash_index(). */
void	tlog_split_stored_hash_index(int64_t index, int *level, int64_t *n);

/* Number of stored hashes for a tree of n records. */
int64_t	tlog_stored_hash_count(int64_t n);

/*
 * The hashes to store for record n with leaf hash h, starting at
 * tlog_stored_hash_index(0, n): h and one per subtree it completes, at
 * most 64.  Reads older hashes from r.  Returns the count written to
 * out, or SUMDB_EREAD.
 */
int	tlog_stored_hashes_for_record(int64_t n,
	    const uint8_t h[SUMDB_HASH_SIZE], const struct tlog_hash_reader *r,
	    uint8_t (*out)[SUMDB_HASH_SIZE]);

/* Root of the tree of n records.  Returns 0, SUMDB_EREAD or ERANGE. */
int	tlog_tree_hash(int64_t n, const struct tlog_hash_reader *r,
	    uint8_t out[SUMDB_HASH_SIZE]);

/*
 * Inclusion proof of record n in tree t: hashes from the leaf's
 * sibling upwards into proof, count in *np.  Returns 0, SUMDB_ERANGE
 * or SUMDB_EREAD.
 */
int	tlog_prove_record(int64_t t, int64_t n,
	    const struct tlog_hash_reader *r,
	    uint8_t (*proof)[SUMDB_HASH_SIZE], size_t *np);

/* Check that record n with leaf hash h is in tree (t, th). 0 or EPROOF. */
int	tlog_check_record(const uint8_t (*proof)[SUMDB_HASH_SIZE], size_t np,
	    int64_t t, const uint8_t th[SUMDB_HASH_SIZE], int64_t n,
	    const uint8_t h[SUMDB_HASH_SIZE]);

/*
 * Consistency proof that tree t extends tree n (1 <= n <= t).
 * Returns 0, SUMDB_ERANGE or SUMDB_EREAD.
 */
int	tlog_prove_tree(int64_t t, int64_t n, const struct tlog_hash_reader *r,
	    uint8_t (*proof)[SUMDB_HASH_SIZE], size_t *np);

/* Check that tree (t, th) extends tree (n, h). 0 or SUMDB_EPROOF. */
int	tlog_check_tree(const uint8_t (*proof)[SUMDB_HASH_SIZE], size_t np,
	    int64_t t, const uint8_t th[SUMDB_HASH_SIZE], int64_t n,
	    const uint8_t h[SUMDB_HASH_SIZE]);

/*
 * Format the tree note text "go.sum database tree\nN\nroot\n" into
 * out.  Returns 0 or SUMDB_ENOMEM.
 */
int	tlog_format_tree(const struct tlog_tree *t, struct evbuffer *out);

/* Parse a tree note text (x/mod ParseTree). 0 or SUMDB_EFORMAT. */
int	tlog_parse_tree(const uint8_t *text, size_t len, struct tlog_tree *t);

/*
 * Parse any log's checkpoint text (c2sp.org/tlog-checkpoint): the
 * origin line, whose length goes to *originlen, size, root and optional
 * non-empty extension lines.  0 or SUMDB_EFORMAT.
 */
int	tlog_parse_checkpoint(const uint8_t *text, size_t len,
	    size_t *originlen, struct tlog_tree *t);

/* witness.c */

#define WITNESS_PROOF_MAX	63		/* lines, per the spec */
#define WITNESS_REQ_MAX		(64 * 1024)	/* an add-checkpoint body */

/* An add-checkpoint request body, parsed. */
struct witness_req {
	int64_t		 old;		/* the size the client thinks we have */
	uint8_t		 proof[WITNESS_PROOF_MAX][SUMDB_HASH_SIZE];
	size_t		 nproof;
	const uint8_t	*note;		/* the signed checkpoint, borrowed */
	size_t		 notelen;
};

/*
 * Parse an add-checkpoint body (c2sp.org/tlog-witness): "old N\n", the
 * proof hashes a line each, "\n", the signed note.  The note itself is
 * not checked.  Returns 0, SUMDB_EFORMAT or SUMDB_ELIMIT (longer than
 * WITNESS_REQ_MAX).
 */
int	witness_parse_req(const uint8_t *body, size_t len,
	    struct witness_req *r);

/* Append an add-checkpoint body.  0, SUMDB_EFORMAT or SUMDB_ENOMEM. */
int	witness_format_req(int64_t old,
	    const uint8_t (*proof)[SUMDB_HASH_SIZE], size_t np,
	    const uint8_t *note, size_t notelen, struct evbuffer *out);

/* Parse a 409's text/x.tlog.size body "N\n".  0 or SUMDB_EFORMAT. */
int	witness_parse_size(const uint8_t *body, size_t len, int64_t *size);

/* tile.c */

/* W consecutive hashes at level H*L starting at index N << H. */
struct tile {
	int		 h;		/* height; 8 for sum.golang.org */
	int		 l;		/* level; -1 for a data tile */
	int64_t		 n;		/* index within the level */
	int		 w;		/* width, 1..1<<h; 1<<h is full */
};

/*
 * Where tiles come from: for i < n, set data[i] to tile t[i]'s bytes
 * and len[i] to their length.  The buffers stay owned by the reader
 * and must live until the caller returns.  Return 0 or non-zero.
 * save_tiles, if not NULL, is called with the tiles once they are
 * authenticated.
 */
struct tile_reader {
	int	 height;
	int	(*read_tiles)(void *arg, const struct tile *t, size_t n,
		    const uint8_t **data, size_t *len);
	void	(*save_tiles)(void *arg, const struct tile *t, size_t n,
		    const uint8_t **data, const size_t *len);
	void	*arg;
};

/*
 * Parse a tile path "tile/8/0/x001/234.p/17" (no leading slash).
 * Only the canonical form is accepted.  0 or SUMDB_EFORMAT.
 */
int	tile_parse(const char *path, size_t len, struct tile *t);

/*
 * Format t's path into buf (at least SUMDB_TILE_PATH_MAX bytes).
 * Returns the length, or SUMDB_EFORMAT for an invalid tile.
 */
int	tile_format(const struct tile *t, char *buf, size_t size);

/* Whether t has valid coordinates. */
int	tile_valid(const struct tile *t);

/*
 * Whether every hash of valid tile t is in a tree of size records (a
 * data tile counts as level 0).  Tiles beyond it would make stored hash
 * indexes overflow.
 */
int	tile_in_tree(const struct tile *t, int64_t size);

/* The smallest tile of height h that holds stored hash index. */
void	tile_for_index(int h, int64_t index, struct tile *t);

/*
 * The stored hash at index, computed from tile t whose data is
 * data[0..len-1].  Returns 0, SUMDB_EFORMAT if the index is not in t or
 * the data is short.
 */
int	tile_hash_from_tile(const struct tile *t, const uint8_t *data,
	    size_t len, int64_t index, uint8_t out[SUMDB_HASH_SIZE]);

/*
 * The hash of the complete subtree whose hashes are data[0..len-1]:
 * len must be a power of two times SUMDB_HASH_SIZE (a full tile).
 */
void	tile_data_hash(const uint8_t *data, size_t len,
	    uint8_t out[SUMDB_HASH_SIZE]);

/*
 * The tiles to publish when a tree grows from oldn to newn: new full
 * tiles and one partial tile per level at the new size (x/mod >=
 * v0.17.0).  Calls fn for each; stops and returns fn's non-zero value.
 */
int	tile_new_tiles(int h, int64_t oldn, int64_t newn,
	    int (*fn)(void *, const struct tile *), void *arg);

/*
 * The bytes of hash tile t (W*32 bytes) read through r, appended to
 * out.  Returns 0, SUMDB_EFORMAT, SUMDB_EREAD or SUMDB_ENOMEM.
 */
int	tile_read_data(const struct tile *t, const struct tlog_hash_reader *r,
	    struct evbuffer *out);

/*
 * The tile hash reader: stored hashes at index[0..n-1] of the tree
 * (size, hash), read from tiles and authenticated against the tree
 * before anything is returned or saved (x/mod TileHashReader).
 * Returns 0, SUMDB_ERANGE, SUMDB_EREAD, SUMDB_EPROOF (an inconsistent
 * or wrongly sized tile) or SUMDB_ENOMEM.
 */
int	tile_read_hashes(const struct tlog_tree *tree,
	    const struct tile_reader *tr, const int64_t *index, size_t n,
	    uint8_t (*out)[SUMDB_HASH_SIZE]);

/*
 * A tlog_hash_reader backed by tile_read_hashes(): set hr->arg to a
 * struct tile_hash_reader that lives as long as hr.
 */
struct tile_hash_reader {
	struct tlog_tree	 tree;
	const struct tile_reader *tr;
	int			 err;	/* last tile_read_hashes() error */
};
/* Point hr at thr, reading tree's hashes through tr. */
void	tile_hash_reader_init(struct tile_hash_reader *thr,
	    const struct tlog_tree *tree, const struct tile_reader *tr,
	    struct tlog_hash_reader *hr);

/* record.c */

/* A parsed go.sum record of one module@version; borrowed strings. */
struct record {
	const char	*path;		/* module path, not escaped */
	size_t		 pathlen;
	const char	*version;
	size_t		 versionlen;
	const char	*ziphash;	/* "h1:..." of the zip */
	size_t		 ziphashlen;
	const char	*modhash;	/* "h1:..." of go.mod */
	size_t		 modhashlen;
};

/* A span of bytes inside a larger buffer. */
struct span {
	const uint8_t	*p;
	size_t		 len;
};

/*
 * Whether text is valid record text: UTF-8, no control characters but
 * '\n', no blank line, ends in '\n' (x/mod isValidRecordText).
 */
int	record_text_valid(const uint8_t *text, size_t len);

/*
 * Parse the record text of one module@version:
 * "<path> <version> h1:<44>\n<path> <version>/go.mod h1:<44>\n".
 * Both lines are required.  Returns 0 or SUMDB_EFORMAT.
 */
int	record_parse(const uint8_t *text, size_t len, struct record *r);

/*
 * record_parse(), and whether the record is of exactly path@version:
 * 0, or SUMDB_EFORMAT when it does not parse or names another.
 */
int	record_parse_of(const uint8_t *text, size_t len, const char *path,
	    const char *version, struct record *r);

/*
 * The path and version record id of text[0..len-1] is indexed under,
 * NUL-terminated into path and version (SUMDB_PATH_MAX bytes each):
 * its own, or record_unnamed()'s when the text does not parse as a
 * record or names something too long to index.
 */
void	record_key(const uint8_t *text, size_t len, int64_t id,
	    char path[SUMDB_PATH_MAX], char version[SUMDB_PATH_MAX]);

/*
 * The key of a record kept but not found by lookups (its text cannot be
 * named, or the log holds its module version already): "#" and "#ID".
 */
void	record_unnamed(int64_t id, char path[SUMDB_PATH_MAX],
	    char version[SUMDB_PATH_MAX]);

/* Append the record text for path@version with the two hashes. */
int	record_format(const char *path, const char *version,
	    const char *ziphash, const char *modhash, struct evbuffer *out);

/*
 * Split a lookup response "<id>\n<text>\n<note>" (x/mod ParseRecord).
 * Returns 0 or SUMDB_EFORMAT.
 */
int	record_parse_lookup(const uint8_t *msg, size_t len, int64_t *id,
	    struct span *text, struct span *note);

/* Append a lookup response. Returns 0, SUMDB_EFORMAT or ENOMEM. */
int	record_format_lookup(int64_t id, const uint8_t *text, size_t textlen,
	    const uint8_t *note, size_t notelen, struct evbuffer *out);

/*
 * Split a data tile (each record followed by "\n") into exactly n
 * records, out[0..n-1].  Returns 0 or SUMDB_EFORMAT.
 */
int	record_split_data_tile(const uint8_t *p, size_t len, size_t n,
	    struct span *out);

/* Append one record to a data tile being built. */
int	record_append_data_tile(const uint8_t *text, size_t len,
	    struct evbuffer *out);

/* modpath.c */

/* Whether path is a valid module path (x/mod module.CheckPath). */
int	modpath_check_path(const char *path, size_t len);

/* Whether version is a valid semantic version (x/mod semver.IsValid). */
int	modpath_semver_valid(const char *v, size_t len);

/* Whether v is a canonical version as the sumdb lookup accepts it. */
int	modpath_semver_canonical(const char *v, size_t len);

/*
 * Whether path@version is a valid module version (x/mod module.Check)
 * with a canonical version.  0 or SUMDB_EFORMAT.
 */
int	modpath_check(const char *path, size_t pathlen, const char *version,
	    size_t versionlen);

/*
 * Escape a module path or a version ('A' becomes "!a") into buf.
 * Returns the length, or SUMDB_EFORMAT if it is not valid, or
 * SUMDB_ELIMIT if buf is too small.
 */
int	modpath_escape_path(const char *path, size_t len, char *buf,
	    size_t size);
int	modpath_escape_version(const char *v, size_t len, char *buf,
	    size_t size);

/* The inverses, with the same validity checks. */
int	modpath_unescape_path(const char *esc, size_t len, char *buf,
	    size_t size);
int	modpath_unescape_version(const char *esc, size_t len, char *buf,
	    size_t size);

/*
 * Split "<escaped path>@<escaped version>" of a lookup URL and unescape
 * both into path and version (each SUMDB_PATH_MAX bytes).  0 or
 * SUMDB_EFORMAT.
 */
int	modpath_parse_lookup(const char *s, size_t len, char *path,
	    char *version);

/* dirhash.c */

/* A file for dirhash_hash1(): its name and contents. */
struct dirhash_file {
	const char	*name;		/* NUL-terminated, no '\n' */
	const uint8_t	*data;
	size_t		 len;
};

/*
 * The "h1:" hash of files f[0..n-1] (dirhash.Hash1), written to out
 * with NUL.  f is sorted in place by name.  0, SUMDB_EFORMAT (newline
 * in a name, duplicate name) or SUMDB_ENOMEM.
 */
int	dirhash_hash1(struct dirhash_file *f, size_t n,
	    char out[SUMDB_H1_SIZE]);

/* The "h1:" hash of a go.mod file's bytes. */
int	dirhash_gomod(const uint8_t *p, size_t len, char out[SUMDB_H1_SIZE]);

/* Limits of a module zip, from golang.org/x/mod/zip. */
#define DIRHASH_ZIP_MAX		(500 << 20)	/* zip and contents */
#define DIRHASH_FILE_MAX	(16 << 20)	/* root go.mod, LICENSE */

/*
 * The "h1:" hash of a module zip in memory (dirhash.HashZip): every
 * entry, uncompressed.  If prefix is not NULL, every entry name must
 * start with it ("<path>@<version>/"), and the go.mod and LICENSE
 * under it hold at most DIRHASH_FILE_MAX bytes.  The zip and the sum of
 * its files inflated hold at most DIRHASH_ZIP_MAX bytes; each entry
 * must inflate to exactly its declared size.  Returns 0, SUMDB_EFORMAT
 * (not a zip, a name outside prefix, duplicate or newline names, an
 * entry larger than it says), SUMDB_ELIMIT (over a limit) or
 * SUMDB_ENOMEM.
 */
int	dirhash_zip(const uint8_t *zip, size_t len, const char *prefix,
	    char out[SUMDB_H1_SIZE]);

/*
 * dirhash_zip() of the regular file open for reading on fd, from its
 * start to its size when called.  fd stays the caller's (a duplicate
 * is read and closed), but its offset moves.  The same returns, and
 * SUMDB_EREAD if fd is not a regular file or cannot be duplicated.
 */
int	dirhash_zip_fd(int fd, const char *prefix, char out[SUMDB_H1_SIZE]);

/* bundle.c: the format of differential bundles (sumdbd export/import) */

#define BUNDLE_MAGIC	"sumdbd bundle 1\n"

/* A cursor over a bundle's bytes. */
struct bundle_cur {
	const uint8_t	*p, *end;
};

/*
 * A bundle as bundle_head() and bundle_body() parse it.  Every span
 * points into the caller's bytes, which must outlive it; recs, t and
 * data are allocated by bundle_body() and released by bundle_free().
 */
struct bundle {
	struct bundle_cur c;		/* what is left to parse */
	int		 named;		/* name was read */
	char		 name[2200];	/* the database */
	int64_t		 from, to;	/* tree sizes, as the header says */
	struct span	 fromnote, tonote;
	uint8_t		 proof[SUMDB_PROOF_MAX][SUMDB_HASH_SIZE];
	size_t		 np;
	int64_t		 first, count;	/* records first.. */
	struct span	*recs;		/* count record texts */
	int64_t		 ntiles;
	struct tile	*t;		/* ntiles tiles and their bytes */
	struct span	*data;
	char		 err[128];	/* why it is malformed */
};

/*
 * Parse the envelope of bundle bytes data[0..len-1]: magic, checksum
 * trailer, database, sizes, notes and proof, leaving b->c at the
 * records.  No signature is checked.  b is reset first and borrows
 * data.  Returns 0, or SUMDB_EFORMAT with the one-line reason in b->err
 * (b->named tells whether b->name was read).  Call bundle_free() after.
 */
int	bundle_head(struct bundle *b, const uint8_t *data, size_t len);

/*
 * Parse what follows the envelope: count records from first (which
 * the caller has from the signed checkpoints), then tiles, then
 * nothing.  Each record is valid record text; each tile has height
 * SUMDB_TILE_HEIGHT and exactly its width's bytes.  Returns 0,
 * SUMDB_EFORMAT with the reason in b->err, or SUMDB_ENOMEM.
 * bundle_free() releases b either way.
 */
int	bundle_body(struct bundle *b, int64_t first, int64_t count);

/* Release what bundle_body() allocated; b can be parsed again. */
void	bundle_free(struct bundle *b);

/*
 * The tree sizes bundle bytes p[0..len-1] claim to go from and to, from
 * its header alone (the importer checks them against its signed
 * checkpoints).  0, or SUMDB_EFORMAT if it is not a well-formed bundle.
 */
int	bundle_sizes(const uint8_t *p, size_t len, int64_t *from,
	    int64_t *to);

/* gosum.c: the lines of go.sum and go.work.sum files */

/* One parsed go.sum line: three strings in one allocation (buf). */
struct gosum_line {
	char		*buf;		/* path, version and hash, NUL-ended */
	char		*path;		/* the module path */
	char		*version;	/* without "/go.mod" */
	char		*hash;		/* "h1:..." */
	int		 gomod;		/* the /go.mod line */
};

/*
 * Parse one go.sum line s ("PATH VERSION[/go.mod] h1:HASH", fields
 * split by blanks or tabs; s is modified) into g, allocating g->buf
 * (the caller frees it).  Each field is UTF-8 and shorter than
 * SUMDB_PATH_MAX (the hash, 128 bytes); the hash starts "h1:" but is
 * not otherwise checked.  Returns 0, SUMDB_EFORMAT or SUMDB_ENOMEM;
 * g->buf is allocated only on 0.
 */
int	gosum_parse_line(char *s, struct gosum_line *g);

#endif /* SUMDB_H */
