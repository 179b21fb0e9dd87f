/*
 * trust.c: the one trust check.  A tree is trusted only when it
 * contains the tree trusted before: the mirror taking a checkpoint,
 * a bundle import against our trust base, the log signer before it
 * signs, fsck walking the chain, client-check against the server.  The
 * proof is made from the larger tree's hashes and checked against both
 * roots; on a fork the larger tree's own hash at the smaller size, with
 * the proof, is what a third party needs to see both trees disagree.
 */

#include <string.h>

#include "sumdbd.h"

int
trust_check(const struct tlog_tree *old, const struct tlog_tree *new,
    const uint8_t (*proof)[SUMDB_HASH_SIZE], size_t np)
{
	if (old->n > new->n)
		return TRUST_EORDER;
	if (old->n == 0)
		return 0;
	if (tlog_check_tree(proof, np, new->n, new->hash, old->n,
	    old->hash) != 0)
		return TRUST_FORK;
	return 0;
}

int
trust_extends(const struct tlog_tree *old, const struct tlog_tree *new,
    const struct tlog_hash_reader *hr, struct trust_proof *proof)
{
	int	 r;

	proof->np = 0;
	proof->nmat = 0;
	proof->err = 0;
	if (old->n > new->n)
		return TRUST_EORDER;
	if (old->n == 0)
		return 0;
	if (old->n == new->n)
		return memcmp(old->hash, new->hash, SUMDB_HASH_SIZE) == 0 ?
		    0 : TRUST_FORK;
	if ((r = tlog_prove_tree(new->n, old->n, hr, proof->proof,
	    &proof->np)) != 0) {
		proof->err = r;
		return TRUST_EREAD;
	}
	if (trust_check(old, new, (const uint8_t (*)[SUMDB_HASH_SIZE])
	    proof->proof, proof->np) == 0)
		return 0;
	if (tlog_tree_hash(old->n, hr, proof->mat[0]) == 0) {
		memcpy(proof->mat[1], proof->proof,
		    proof->np * SUMDB_HASH_SIZE);
		proof->nmat = proof->np + 1;
	}
	return TRUST_FORK;
}
