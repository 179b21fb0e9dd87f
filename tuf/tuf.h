/*
 * tuf.h: The Update Framework's metadata, as sumdbd publishes it and as
 * a client verifies it: canonical JSON (the OLPC dialect every TUF
 * client uses), Ed25519 keys and keyids, signing, and the checks of one
 * role: signature threshold over distinct keys, type, version, expiry.
 * No I/O, no logging.
 */

#ifndef TUF_H
#define TUF_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TUF_EFORMAT	-1	/* not TUF metadata, or not canonical-able */
#define TUF_ESIG	-2	/* threshold of valid signatures not met */
#define TUF_EEXPIRED	-3	/* expired at the given time */
#define TUF_EVERSION	-4	/* version or type not the expected one */
#define TUF_ENOMEM	-5
#define TUF_EHASH	-6	/* length or hash differs */

#define TUF_SPEC_VERSION	"1.0.31"
#define TUF_KEYID_LEN		64		/* hex sha256 */
#define TUF_ROLE_KEYS_MAX	32
#define TUF_INT_MAX		((INT64_C(1) << 53) - 1)  /* tuf-js doubles */

/* A TUF_E* code's one-line description (a static string). */
const char	*tuf_strerror(int code);

/* json.c */

/*
 * The canonical JSON of v, malloc'd and NUL-terminated in *out (free
 * with free()), length in *len.  TUF_EFORMAT if v holds a real, a
 * string with a byte below 0x20 (jansson would escape it, OLPC does
 * not), or an integer outside 0..2^53-1.
 */
int	tuf_canonical(const json_t *v, char **out, size_t *len);

/*
 * Parse metadata bytes, refusing duplicate keys and reals.  Returns a
 * new reference or NULL.
 */
json_t	*tuf_parse(const uint8_t *p, size_t len);

/* "YYYY-MM-DDTHH:MM:SSZ" and back; 0 or TUF_EFORMAT. */
int	tuf_format_time(time_t t, char buf[21]);
int	tuf_parse_time(const char *s, time_t *t);

/* tuf.c */

/* An Ed25519 public key and its keyid. */
struct tuf_key {
	uint8_t		 pub[32];
	char		 keyid[TUF_KEYID_LEN + 1];
};

/* A signing key, in sodium guarded memory.  Opaque. */
struct tuf_signer;

/* The key for pub, with its keyid: sha256 of its canonical JSON. */
int	tuf_key_init(const uint8_t pub[32], struct tuf_key *k);

/* {"keytype":"ed25519","keyval":{"public":HEX},"scheme":"ed25519"} */
json_t	*tuf_key_json(const struct tuf_key *k);

/* Read a key object (ed25519 only); its keyid is recomputed. */
int	tuf_key_parse(const json_t *v, struct tuf_key *k);

/* A signer from a 32-byte seed, or a new random one; NULL on failure. */
struct tuf_signer *tuf_signer_new(const uint8_t *seed);
void	tuf_signer_free(struct tuf_signer *s);
const struct tuf_key *tuf_signer_key(const struct tuf_signer *s);

/* Copy s's seed (32 bytes) to out, which the caller wipes. */
void	tuf_signer_seed(const struct tuf_signer *s, uint8_t out[32]);

/*
 * The metadata file {"signed": signed, "signatures": [...]} signed by
 * s[0..n-1], as canonical JSON in *out (free with free()).  Returns 0,
 * TUF_EFORMAT or TUF_ENOMEM.
 */
int	tuf_sign(const json_t *signed_, struct tuf_signer *const *s, size_t n,
	    char **out, size_t *len);

/* The keys and threshold a role's metadata must be signed with. */
struct tuf_role {
	struct tuf_key	 keys[TUF_ROLE_KEYS_MAX];
	size_t		 nkeys;
	int64_t		 threshold;
};

/*
 * The role named name ("root", "targets", ...) in a root's signed part.
 * Keyids listed but absent from "keys" are skipped.  0 or TUF_EFORMAT.
 */
int	tuf_root_role(const json_t *root, const char *name,
	    struct tuf_role *r);

/*
 * Verify metadata md (a parsed file) against role r: at least
 * r->threshold distinct keys of r signed the canonical "signed" part.
 * Unknown keyids are ignored; a keyid that appears twice makes the
 * metadata malformed.  Returns 0, TUF_EFORMAT or TUF_ESIG.
 */
int	tuf_verify(const json_t *md, const struct tuf_role *r);

/*
 * Check the common fields of md's signed part: _type is type,
 * spec_version has major 1, version is 1..2^53-1, expires is well
 * formed and after now.  *version gets the version.  Returns 0,
 * TUF_EFORMAT, TUF_EVERSION (wrong type) or TUF_EEXPIRED.
 */
int	tuf_check(const json_t *md, const char *type, time_t now,
	    int64_t *version);

/* The meta entry of a timestamp or snapshot: what a file must be. */
struct tuf_meta {
	int64_t		 version;
	int64_t		 length;		/* -1: not listed */
	uint8_t		 sha256[32];
	int		 has_sha256;
};

/* meta["name"] of md's signed part.  0 or TUF_EFORMAT. */
int	tuf_meta_get(const json_t *md, const char *name, struct tuf_meta *m);

/*
 * targets["path"] of targets metadata md: its length and sha256 into m
 * (version 0).  TUF_EFORMAT unless path is listed with an integer length
 * of at least 0 and a sha256 of 64 lowercase hex digits: a target must
 * pin both, or its download would have no bound and no check.
 */
int	tuf_target_get(const json_t *md, const char *path, struct tuf_meta *m);

/* Whether bytes p[0..len-1] match m's length and sha256.  0 or EHASH. */
int	tuf_meta_match(const struct tuf_meta *m, const uint8_t *p, size_t len);

/* update.c: the client workflow's checks (specification 5.2 to 5.6) */

/*
 * Each check takes fetched bytes p[0..len-1] and the trusted state
 * (parsed metadata the caller owns and keeps), and returns 0 with a
 * new reference in its json_t ** (the caller decrefs it), or a TUF_E*
 * code with a one-line reason in err[0..errsize-1] and NULL there.
 * The reasons are what `sumdbd import` reports.  Nothing is fetched,
 * stored or logged: keeping what passed is the caller's.
 */

/* md's "signed" part (borrowed), and its version (0 if none). */
json_t	*tuf_signed(const json_t *md);
int64_t	 tuf_version(const json_t *md);

/*
 * 5.2: a pinned root, the client's first trust: it parses and a
 * threshold of its own root keys signed it (expiry is checked at the
 * end of the chain).  TUF_EFORMAT or TUF_ESIG.
 */
int	tuf_update_pinned(const uint8_t *p, size_t len, json_t **root,
	    char *err, size_t errsize);

/*
 * 5.3: the next root after trusted root: signed by a threshold of
 * root's root keys and of its own, and exactly version N+1 (it may be
 * expired: only the last of the chain must not be).  name says where
 * the bytes are from, for the reason.  TUF_EFORMAT, TUF_ESIG or
 * TUF_EVERSION.
 */
int	tuf_update_root(const json_t *root, const uint8_t *p, size_t len,
	    const char *name, time_t now, json_t **next, char *err,
	    size_t errsize);

/* 5.3.10: the last root of the chain is not expired at now. */
int	tuf_update_root_check(const json_t *root, time_t now, char *err,
	    size_t errsize);

/*
 * 5.4: a new timestamp under root, not expired, with neither its
 * version nor its snapshot's below those of trusted (the trusted
 * timestamp, or NULL; ignored when it no longer verifies under root).
 * *snapshot gets its snapshot.json entry.  TUF_EFORMAT, TUF_ESIG,
 * TUF_EEXPIRED or TUF_EVERSION (a rollback).
 */
int	tuf_update_timestamp(const json_t *root, const json_t *trusted,
	    const uint8_t *p, size_t len, time_t now, json_t **ts,
	    struct tuf_meta *snapshot, char *err, size_t errsize);

/*
 * 5.5: the snapshot m (the timestamp's entry) names: its length and
 * hash, then signed under root, not expired, version m->version, and
 * no file listed by trusted (the trusted snapshot, or NULL) at a lower
 * version.  *targets gets its targets.json entry.  TUF_EHASH,
 * TUF_EFORMAT, TUF_ESIG, TUF_EEXPIRED or TUF_EVERSION.
 */
int	tuf_update_snapshot(const json_t *root, const json_t *trusted,
	    const struct tuf_meta *m, const uint8_t *p, size_t len,
	    time_t now, json_t **snap, struct tuf_meta *targets, char *err,
	    size_t errsize);

/*
 * 5.6: the targets m (the snapshot's entry) names: its length and hash,
 * then signed under root, not expired, version m->version.  TUF_EHASH,
 * TUF_EFORMAT, TUF_ESIG, TUF_EEXPIRED or TUF_EVERSION.
 */
int	tuf_update_targets(const json_t *root, const struct tuf_meta *m,
	    const uint8_t *p, size_t len, time_t now, json_t **targets,
	    char *err, size_t errsize);

#endif /* TUF_H */
