/*
 * witness.h: sumdbd as a c2sp.org/tlog-witness, daemon/witness/ (main
 * thread): POST /witness/add-checkpoint requests that the workers hand
 * over (handoff.c, MISS_WITNESS) are checked against the configured
 * logs' keys and the state kept in the store, and cosigned with the
 * witness's cosignature/v1 key.
 */

#ifndef WITNESS_H
#define WITNESS_H

#include "sumdbd.h"

/*
 * Load [witness] key and the [witness-log ORIGIN] keys and register
 * the handler (env->witness_add).  Does nothing without a [witness].
 * 0, or -1 with the reason logged as "path:line: ...".
 */
int	witness_open(struct env *env);
void	witness_free(struct env *env);

#endif /* WITNESS_H */
